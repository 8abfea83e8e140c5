// Journey building on the device. The journeys it builds stay there: their JourneySet columns are
// device-resident HostDeviceVectors that the GPU stages read in place (device_view) and that host
// code pulls once when it first reads them.
#pragma once

#include <rmm/device_uvector.hpp>

#include "cuda/core/device_runtime.cuh"
#include "journeymap/journeys.hpp"

namespace jm::cuda_impl {

/// The event columns on the device (vocabularies stay on the host).
struct DeviceEventTable {
  explicit DeviceEventTable(CudaResources& resources)
      : customer(0, resources.stream(), resources.memory()), timestamp_ms(0, resources.stream(), resources.memory()),
        touchpoint(0, resources.stream(), resources.memory()), channel(0, resources.stream(), resources.memory()),
        value(0, resources.stream(), resources.memory()), is_conversion(0, resources.stream(), resources.memory()) {}

  rmm::device_uvector<uint32_t> customer;
  rmm::device_uvector<int64_t> timestamp_ms;
  rmm::device_uvector<int32_t> touchpoint;
  rmm::device_uvector<int32_t> channel;
  rmm::device_uvector<float> value;
  rmm::device_uvector<uint8_t> is_conversion;
  int64_t n_customers = 0;  ///< size of the customer vocabulary (bounds the customer ids)

  int64_t size() const { return static_cast<int64_t>(customer.size()); }
};

/// Copies the event columns to the context's device.
DeviceEventTable upload_events(const Context& ctx, const EventTable& events);

/// Builds journeys from device-resident events into the columns of `out` (a fresh JourneySet), left
/// on the device; the vocabularies are the caller's to attach. Synchronizes the stream three times
/// to size arrays from device-computed counts.
void build_device_journeys(const Context& ctx, const DeviceEventTable& events, const JourneyOptions& options,
                           JourneySet& out);

}  // namespace jm::cuda_impl
