// HostDeviceVector against a device made of host memory: what moves, when, and how often.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/device_resources.hpp"
#include "journeymap/host_device_vector.hpp"
#include "journeymap/journeys.hpp"

namespace {

using jm::HostDeviceVector;
using jm::TransferStats;

// "Device" memory is host memory with a marker byte pattern, so a test can read what a kernel would
// see and write what a kernel would write.
class HostMemoryDevice final : public jm::DeviceResources {
 public:
  std::string description() const override { return "host-memory test device"; }
  int sm_count() const override { return 4; }
  void* allocate(size_t bytes) override {
    ++live_allocations;
    return std::malloc(bytes == 0 ? 1 : bytes);
  }
  void deallocate(void* pointer, size_t) noexcept override {
    --live_allocations;
    std::free(pointer);
  }
  int live_allocations = 0;

 protected:
  void do_copy_to_device(void* device, const void* host, size_t bytes) override { std::memcpy(device, host, bytes); }
  void do_copy_to_host(void* host, const void* device, size_t bytes) override { std::memcpy(host, device, bytes); }
};

struct FakeGpu {
  std::shared_ptr<HostMemoryDevice> device = std::make_shared<HostMemoryDevice>();
  jm::Context ctx = [this] {
    jm::Context c;
    c.backend = jm::Backend::Gpu;
    c.device = device;
    return c;
  }();
  TransferStats moved() const { return device->transfers(); }
};

TEST(HostDeviceVector, UploadsOnceAndDownloadsNothingWhileBothSidesAreValid) {
  FakeGpu gpu;
  HostDeviceVector<int32_t> column = std::vector<int32_t>{4, 5, 6, 7};
  EXPECT_TRUE(column.on_host());
  EXPECT_FALSE(column.on_device());

  const jm::DeviceSpan<const int32_t> first = column.device_view(gpu.ctx);
  ASSERT_EQ(first.size, 4u);
  EXPECT_EQ(first.data[2], 6);
  EXPECT_EQ(gpu.moved().host_to_device_bytes, 16);
  EXPECT_EQ(gpu.moved().host_to_device_copies, 1);

  // A second stage reading the same column: the same device memory, nothing moves.
  const jm::DeviceSpan<const int32_t> second = column.device_view(gpu.ctx);
  EXPECT_EQ(second.data, first.data);
  EXPECT_EQ(column[3], 7);  // the host copy is still valid
  EXPECT_EQ(gpu.moved().host_to_device_copies, 1);
  EXPECT_EQ(gpu.moved().device_to_host_copies, 0);
}

// What a stage copied is the difference of two readings; the stages' shares add up to the whole.
TEST(HostDeviceVector, TransferReadingsSubtractAndAddUp) {
  FakeGpu gpu;
  HostDeviceVector<int64_t> a = std::vector<int64_t>{1, 2, 3};
  HostDeviceVector<int32_t> b = std::vector<int32_t>{1, 2, 3, 4, 5};
  const TransferStats start = gpu.moved();
  a.device_view(gpu.ctx);
  const TransferStats after_first = gpu.moved();
  b.device_span(gpu.ctx);  // b is now only on the device
  b.host();                // and comes home
  const TransferStats first_stage = after_first - start;
  const TransferStats second_stage = gpu.moved() - after_first;
  EXPECT_EQ(first_stage.host_to_device_bytes, 24);
  EXPECT_EQ(first_stage.device_to_host_bytes, 0);
  EXPECT_EQ(second_stage.host_to_device_bytes, 20);
  EXPECT_EQ(second_stage.device_to_host_bytes, 20);
  EXPECT_EQ(second_stage.device_to_host_copies, 1);
  TransferStats total;
  total += first_stage;
  total += second_stage;
  EXPECT_EQ(total.host_to_device_bytes, gpu.moved().host_to_device_bytes);
  EXPECT_EQ(total.device_to_host_bytes, gpu.moved().device_to_host_bytes);
  EXPECT_EQ(total.host_to_device_copies, 2);
  EXPECT_EQ(total.device_to_host_copies, gpu.moved().device_to_host_copies);
}

TEST(HostDeviceVector, DeviceProducedDataComesHomeOnceOnFirstHostRead) {
  FakeGpu gpu;
  HostDeviceVector<int64_t> column;
  jm::DeviceSpan<int64_t> out = column.resize_on_device(gpu.ctx, 3);
  for (size_t i = 0; i < out.size; ++i) out.data[i] = static_cast<int64_t>(10 * i);  // a "kernel"
  EXPECT_FALSE(column.on_host());
  EXPECT_EQ(column.size(), 3u);
  EXPECT_EQ(gpu.moved().device_to_host_copies, 0);

  EXPECT_EQ(column[1], 10);
  EXPECT_EQ(column.host(), (std::vector<int64_t>{0, 10, 20}));
  int64_t sum = 0;
  for (int64_t v : column) sum += v;
  EXPECT_EQ(sum, 30);
  EXPECT_EQ(gpu.moved().device_to_host_copies, 1);
  EXPECT_EQ(gpu.moved().device_to_host_bytes, 24);
  // Still resident: a later device reader uploads nothing.
  column.device_view(gpu.ctx);
  EXPECT_EQ(gpu.moved().host_to_device_copies, 0);
}

TEST(HostDeviceVector, WritingOneSideDropsTheOther) {
  FakeGpu gpu;
  HostDeviceVector<float> column = std::vector<float>{1, 2, 3};
  column.device_view(gpu.ctx);
  EXPECT_EQ(gpu.device->live_allocations, 1);
  column.host_mut()[0] = 9;  // host write: the device copy is stale, so it goes
  EXPECT_FALSE(column.on_device());
  EXPECT_EQ(gpu.device->live_allocations, 0);
  EXPECT_EQ(column.device_view(gpu.ctx).data[0], 9.0f);  // uploaded again, with the new value
  EXPECT_EQ(gpu.moved().host_to_device_copies, 2);

  jm::DeviceSpan<float> on_device = column.device_span(gpu.ctx);  // device write: the host copy goes
  EXPECT_FALSE(column.on_host());
  on_device.data[2] = -1;
  EXPECT_EQ(column.host(), (std::vector<float>{9, 2, -1}));
  EXPECT_EQ(gpu.moved().device_to_host_copies, 1);
}

TEST(HostDeviceVector, CopiesAreHostCopiesAndMovesKeepTheDeviceData) {
  FakeGpu gpu;
  HostDeviceVector<uint8_t> column;
  jm::DeviceSpan<uint8_t> out = column.resize_on_device(gpu.ctx, 2);
  out.data[0] = 1;
  out.data[1] = 2;
  HostDeviceVector<uint8_t> copy = column;  // pulls the host copy once, shares nothing on the device
  EXPECT_TRUE(copy.on_host());
  EXPECT_FALSE(copy.on_device());
  EXPECT_EQ(copy, (std::vector<uint8_t>{1, 2}));

  const uint8_t* resident = column.device_view(gpu.ctx).data;
  HostDeviceVector<uint8_t> moved = std::move(column);
  EXPECT_TRUE(moved.on_device());
  EXPECT_EQ(moved.device_view(gpu.ctx).data, resident);
  EXPECT_EQ(gpu.moved().host_to_device_copies, 0);
  EXPECT_EQ(gpu.moved().device_to_host_copies, 1);
  EXPECT_EQ(moved, copy);
}

TEST(HostDeviceVector, ConcurrentHostReadersPullOnce) {
  FakeGpu gpu;
  HostDeviceVector<int32_t> column;
  const size_t n = 1 << 16;
  jm::DeviceSpan<int32_t> out = column.resize_on_device(gpu.ctx, n);
  for (size_t i = 0; i < n; ++i) out.data[i] = static_cast<int32_t>(i);
  std::vector<int64_t> sums(8, 0);
  std::vector<std::thread> readers;
  for (size_t t = 0; t < sums.size(); ++t)
    readers.emplace_back([&, t] {
      for (size_t i = t; i < n; i += sums.size()) sums[t] += column[i];
    });
  for (std::thread& reader : readers) reader.join();
  int64_t total = 0;
  for (int64_t s : sums) total += s;
  EXPECT_EQ(total, static_cast<int64_t>(n) * (n - 1) / 2);
  EXPECT_EQ(gpu.moved().device_to_host_copies, 1);
}

TEST(HostDeviceVector, DeviceSideNeedsAGpuContext) {
  HostDeviceVector<int32_t> column = std::vector<int32_t>{1};
  const jm::Context cpu = jm::make_context(jm::Backend::Cpu, 1);
  EXPECT_THROW(column.device_view(cpu), std::logic_error);
  EXPECT_EQ(column[0], 1);
}

// A journey set handed from stage to stage moves its CSR to the device once, however many
// device readers follow, and copying the set (as stages that select journeys do) never reuploads
// the original.
TEST(HostDeviceVector, JourneyColumnsMoveOnceAcrossStages) {
  FakeGpu gpu;
  jm::JourneySet journeys;
  journeys.offsets = std::vector<int64_t>{0, 2, 5};
  journeys.touchpoint = std::vector<int32_t>{0, 1, 1, 2, 0};
  journeys.converted = std::vector<uint8_t>{0, 1};
  for (int stage = 0; stage < 3; ++stage) {  // features, flows, patterns
    journeys.offsets.device_view(gpu.ctx);
    journeys.touchpoint.device_view(gpu.ctx);
  }
  journeys.converted.device_view(gpu.ctx);
  EXPECT_EQ(gpu.moved().host_to_device_copies, 3);
  EXPECT_EQ(gpu.moved().host_to_device_bytes, 3 * 8 + 5 * 4 + 2);
  EXPECT_EQ(journeys.size(), 2);
  EXPECT_EQ(gpu.moved().device_to_host_copies, 0);
}

}  // namespace
