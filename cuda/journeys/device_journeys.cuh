// The journey set resident on the device: the CSR arrays that the GPU analysis stages read.
#pragma once

#include <rmm/cuda_stream_view.hpp>
#include <rmm/device_uvector.hpp>

#include "journeymap/journeys.hpp"

namespace jm::cuda_impl {

/// Device twin of JourneySet's arrays (vocabularies and stats stay on the host).
struct DeviceJourneySet {
  explicit DeviceJourneySet(rmm::cuda_stream_view stream)
      : offsets(0, stream), touchpoint(0, stream), channel(0, stream), timestamp_ms(0, stream), value(0, stream),
        customer(0, stream), converted(0, stream), conversion_value(0, stream), start_ms(0, stream), end_ms(0, stream) {}

  rmm::device_uvector<int64_t> offsets;       ///< [n_journeys + 1]
  rmm::device_uvector<int32_t> touchpoint;    ///< [n_events]
  rmm::device_uvector<int32_t> channel;       ///< [n_events]
  rmm::device_uvector<int64_t> timestamp_ms;  ///< [n_events]
  rmm::device_uvector<float> value;           ///< [n_events]
  rmm::device_uvector<uint32_t> customer;     ///< [n_journeys]
  rmm::device_uvector<uint8_t> converted;     ///< [n_journeys]
  rmm::device_uvector<float> conversion_value;///< [n_journeys]
  rmm::device_uvector<int64_t> start_ms;      ///< [n_journeys]
  rmm::device_uvector<int64_t> end_ms;        ///< [n_journeys]
  JourneyBuildStats stats;

  int64_t size() const { return offsets.size() == 0 ? 0 : static_cast<int64_t>(offsets.size()) - 1; }
  int64_t num_events() const { return static_cast<int64_t>(touchpoint.size()); }
};

/// The event columns on the device (vocabularies stay on the host).
struct DeviceEventTable {
  explicit DeviceEventTable(rmm::cuda_stream_view stream)
      : customer(0, stream), timestamp_ms(0, stream), touchpoint(0, stream), channel(0, stream), value(0, stream),
        is_conversion(0, stream) {}

  rmm::device_uvector<uint32_t> customer;
  rmm::device_uvector<int64_t> timestamp_ms;
  rmm::device_uvector<int32_t> touchpoint;
  rmm::device_uvector<int32_t> channel;
  rmm::device_uvector<float> value;
  rmm::device_uvector<uint8_t> is_conversion;
  int64_t n_customers = 0;  ///< size of the customer vocabulary (bounds the customer ids)

  int64_t size() const { return static_cast<int64_t>(customer.size()); }
};

/// Copies the event columns to the device (ordered on `stream`).
DeviceEventTable upload_events(const EventTable& events, rmm::cuda_stream_view stream);

/// Builds journeys from device-resident events and leaves them on the device (the GPU stages'
/// entry point). Synchronizes the stream twice to size arrays from device-computed counts.
DeviceJourneySet build_device_journeys(const Context& ctx, const DeviceEventTable& events, const JourneyOptions& options);

/// Copies a device journey set to the host, attaching the vocabularies of `events`.
JourneySet to_host(const DeviceJourneySet& device_journeys, const EventTable& events, rmm::cuda_stream_view stream);

}  // namespace jm::cuda_impl
