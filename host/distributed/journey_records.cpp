#include "host/distributed/journey_records.hpp"

#include "host/core/records.hpp"
#include "journeymap/common.hpp"

namespace jm {

std::string save_journey_batch(const JourneySet& journeys, const std::vector<int64_t>& customer_last_ms,
                               int64_t first_customer) {
  RecordWriter out;
  out.value(first_customer);
  out.values(customer_last_ms);
  out.values(journeys.offsets.host());
  out.values(journeys.touchpoint.host());
  out.values(journeys.channel.host());
  out.values(journeys.timestamp_ms.host());
  out.values(journeys.value.host());
  out.values(journeys.customer.host());
  out.values(journeys.converted.host());
  out.values(journeys.conversion_value.host());
  out.values(journeys.start_ms.host());
  out.values(journeys.end_ms.host());
  out.values(journeys.outcome.host());
  out.values(journeys.outcome_ms.host());
  return out.take();
}

JourneyBatchRecords read_journey_batch(const std::string& bytes) {
  RecordReader in(bytes);
  JourneyBatchRecords batch;
  batch.first_customer = in.value<int64_t>();
  batch.customer_last_ms = in.values<int64_t>();
  JourneySet& journeys = batch.journeys;
  journeys.offsets = in.values<int64_t>();
  journeys.touchpoint = in.values<int32_t>();
  journeys.channel = in.values<int32_t>();
  journeys.timestamp_ms = in.values<int64_t>();
  journeys.value = in.values<float>();
  journeys.customer = in.values<uint32_t>();
  journeys.converted = in.values<uint8_t>();
  journeys.conversion_value = in.values<float>();
  journeys.start_ms = in.values<int64_t>();
  journeys.end_ms = in.values<int64_t>();
  journeys.outcome = in.values<uint8_t>();
  journeys.outcome_ms = in.values<int64_t>();
  if (!in.done()) throw Error("a batch of journeys from another process has bytes left over");
  return batch;
}

}  // namespace jm
