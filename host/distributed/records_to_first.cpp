// Records sent to process 0 (records_to_first.hpp).
#include "host/distributed/records_to_first.hpp"

#include "host/distributed/process_group.hpp"

namespace jm {

void SpooledRecords::add(const std::string& bytes) {
  records_.emplace_back(file_.append(bytes.data(), bytes.size()), static_cast<int64_t>(bytes.size()));
}

std::string SpooledRecords::record(int64_t r) const {
  const auto [offset, bytes] = records_.at(static_cast<size_t>(r));
  std::string out(static_cast<size_t>(bytes), '\0');
  file_.read(offset, out.data(), out.size());
  return out;
}

void send_records_to_first(ProcessGroup& group, const SpooledRecords* records,
                           const std::function<void(int process, const std::string& bytes)>& take) {
  const std::vector<int64_t> counts = group.each(records ? records->size() : 0);
  StepFailure failure;  // the first of this process's
  auto attempt = [&](const std::function<void()>& step) {
    if (failure.message.empty()) failure = failure_of(step);
  };
  for (int process = 1; process < group.size(); ++process)
    for (int64_t r = 0; r < counts[static_cast<size_t>(process)]; ++r) {
      std::string bytes;
      if (group.rank() == process) attempt([&] { bytes = records->record(r); });
      const std::vector<std::string> gathered = group.gather_to_first(bytes);
      // Nothing came when the sender failed: its failure, not an empty record, is the one to report.
      if (group.rank() != 0 || gathered[static_cast<size_t>(process)].empty()) continue;
      attempt([&] { take(process, gathered[static_cast<size_t>(process)]); });
    }
  group.agree(failure.message, failure.exit_code);
}

}  // namespace jm
