// Device residency of the stages' data on a GPU context: what one stage leaves on the device, the
// next reads there. Measured with the context's transfer counter, each stage against the same stage
// on a host copy of its input. Every test skips without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "host/patterns/sequence_index.hpp"
#include "journeymap/anomalies.hpp"
#include "journeymap/common.hpp"
#include "journeymap/device_resources.hpp"
#include "journeymap/features.hpp"
#include "journeymap/flows.hpp"
#include "journeymap/journeys.hpp"
#include "journeymap/patterns.hpp"
#include "journeymap/segments.hpp"
#include "random_events.hpp"

namespace {

using jm::Backend;
using jm::JourneyOptions;
using jm::JourneySet;
using jm::testing::random_events;

int64_t uploaded_bytes(const jm::Context& ctx) { return ctx.device->transfers().host_to_device_bytes; }

// Journeys built on the GPU stay there: features and flows read the same device CSR. Measured by
// the context's transfer counter against the same stages on a host copy of the journeys, which
// must upload exactly the CSR columns each stage reads, and nothing else more.
TEST(DeviceResidentJourneys, StagesReadTheCsrTheGpuBuilt) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const jm::Context gpu = jm::make_context(Backend::Gpu, 2);
  const JourneySet resident = jm::build_journeys(gpu, random_events(5, 200000, 5000, 12), JourneyOptions{});
  EXPECT_TRUE(resident.touchpoint.on_device());
  EXPECT_FALSE(resident.touchpoint.on_host());
  const auto uploaded_by = [&](const JourneySet& journeys) {
    const int64_t before = gpu.device->transfers().host_to_device_bytes;
    const jm::FeatureMatrix features = jm::extract_features(gpu, journeys, jm::FeatureOptions{});
    EXPECT_TRUE(features.values.on_device());  // left for the stages that read the matrix next
    EXPECT_FALSE(features.values.on_host());
    jm::cuda_impl::count_flows(gpu, journeys, 6, 0.0, {});
    return gpu.device->transfers().host_to_device_bytes - before;
  };
  const int64_t from_resident = uploaded_by(resident);
  const JourneySet host_copy = resident;  // a copy is a host copy
  ASSERT_FALSE(host_copy.touchpoint.on_device());
  const int64_t from_host = uploaded_by(host_copy);
  const int64_t n = resident.size(), e = resident.num_events();
  // offsets, touchpoint, channel, timestamp_ms (features) and converted (flows), each once.
  const int64_t csr_bytes = (n + 1) * 8 + e * 4 + e * 4 + e * 8 + n * 1;
  EXPECT_EQ(from_host - from_resident, csr_bytes);
}

// PrefixSpan mines the journeys' own device CSR: the previous-occurrence index is built on the
// device (equal to the CPU's) and nothing of the CSR is uploaded again.
TEST(DeviceResidentJourneys, PrefixSpanMinesTheCsrTheGpuBuilt) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const jm::Context gpu = jm::make_context(Backend::Gpu, 2);
  const jm::Context cpu = jm::make_context(Backend::Cpu, 2);
  const JourneySet resident = jm::build_journeys(gpu, random_events(11, 200000, 5000, 12), JourneyOptions{});
  jm::PatternOptions options;
  options.max_length = 3;
  const jm::MiningProblem on_gpu = jm::make_mining_problem(gpu, resident, options);
  EXPECT_TRUE(on_gpu.previous_same_item.on_device());
  const JourneySet host_copy = resident;
  const std::vector<int64_t> on_cpu = jm::patterns_detail::index_previous_same_item(
      cpu.num_threads, host_copy.offsets.data(), host_copy.size(), host_copy.touchpoint.data(),
      host_copy.touchpoints.size());
  EXPECT_EQ(on_gpu.previous_same_item.host(), on_cpu);

  const auto uploaded_by = [&](const JourneySet& journeys) {
    const int64_t before = uploaded_bytes(gpu);
    jm::mine_patterns(gpu, journeys, options);
    return uploaded_bytes(gpu) - before;
  };
  const int64_t from_resident = uploaded_by(resident);
  const JourneySet another_host_copy = resident;
  const int64_t from_host = uploaded_by(another_host_copy);
  const int64_t n = resident.size(), e = resident.num_events();
  EXPECT_EQ(from_host - from_resident, (n + 1) * 8 + e * 4 + n);  // offsets, touchpoint, converted
}

// The scaled matrix is computed on the device from the resident feature matrix: only the per-column
// constants go up, and the values are the CPU's (the same feature_rules::standardise, in double).
TEST(DeviceResidentFeatures, ScalingReadsTheMatrixOnTheDevice) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const jm::Context gpu = jm::make_context(Backend::Gpu, 2);
  const JourneySet journeys = jm::build_journeys(gpu, random_events(7, 100000, 3000, 12), JourneyOptions{});
  const jm::FeatureMatrix features = jm::extract_features(gpu, journeys, jm::FeatureOptions{});
  const jm::FeatureScaling scaling = jm::fit_scaling(features);  // reads the host copy (downloaded once)
  ASSERT_TRUE(features.values.on_device());
  const int64_t before = uploaded_bytes(gpu);
  const jm::HostDeviceVector<float> scaled = jm::apply_scaling(gpu, features, scaling);
  const int64_t d = scaling.dims();
  EXPECT_EQ(uploaded_bytes(gpu) - before, d * (4 + 1 + 4 + 4));  // column index, transform, mean, scale
  EXPECT_TRUE(scaled.on_device());
  EXPECT_FALSE(scaled.on_host());
  const std::vector<float> expected = jm::apply_scaling(features, scaling);
  ASSERT_EQ(scaled.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)  // log1p on the device may differ by an ulp before rounding
    ASSERT_NEAR(scaled[i], expected[i], 1e-6 * std::max(1.0f, std::fabs(expected[i]))) << "value " << i;
}

// Segments and anomalies read the scaled matrix where it was computed: with the search over k and
// the autoencoder's training on small samples, each uploads less than one copy of it in all (before,
// the full Lloyd run, every scoring pass and the forest each uploaded a full copy). Their answers do not depend on
// where the features were.
TEST(DeviceResidentFeatures, SegmentsAndAnomaliesDoNotUploadTheScaledMatrix) {
  if (!jm::gpu_available()) GTEST_SKIP() << "no CUDA device: " << jm::gpu_description();
  const jm::Context gpu = jm::make_context(Backend::Gpu, 2);
  const JourneySet journeys = jm::build_journeys(gpu, random_events(9, 800000, 80000, 12), JourneyOptions{});
  const jm::FeatureMatrix resident = jm::extract_features(gpu, journeys, jm::FeatureOptions{});
  const int64_t n = resident.n_rows;
  ASSERT_GT(n, 50000);

  jm::SegmentOptions segment_options;
  segment_options.search_sample = 1000;
  int64_t before = uploaded_bytes(gpu);
  const jm::SegmentResult segments = jm::segment_journeys(gpu, journeys, resident, segment_options);
  const int64_t segment_matrix_bytes = n * segments.scaling.dims() * 4;
  EXPECT_LT(uploaded_bytes(gpu) - before, segment_matrix_bytes);

  jm::JourneyAnomalyOptions anomaly_options;
  anomaly_options.autoencoder.max_train_rows = 1000;
  before = uploaded_bytes(gpu);
  const jm::JourneyAnomalies anomalies = jm::detect_journey_anomalies(gpu, journeys, resident, anomaly_options);
  const int64_t anomaly_matrix_bytes = n * anomalies.scaling.dims() * 4;
  EXPECT_LT(uploaded_bytes(gpu) - before, anomaly_matrix_bytes);

  const jm::FeatureMatrix host_copy = resident;  // a copy is a host copy
  ASSERT_FALSE(host_copy.values.on_device());
  EXPECT_EQ(jm::segment_journeys(gpu, journeys, host_copy, segment_options).labels, segments.labels);
  EXPECT_EQ(jm::detect_journey_anomalies(gpu, journeys, host_copy, anomaly_options).score, anomalies.score);
}

}  // namespace
