// The generator's planted checkout offers, read back for the simulator and the tests: each
// decision's purchase probability under every offer, or the logging policy's probabilities, from the
// truth CSV (docs/generator.md, "Checkout offers").
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  size_t begin = 0;
  while (true) {
    const size_t comma = line.find(',', begin);
    fields.push_back(line.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) return fields;
    begin = comma + 1;
  }
}

}  // namespace

std::vector<double> planted_decision_values(const std::string& truth_csv_path, const JourneySet& journeys,
                                            const LoggedDecisions& logged, const std::string& column_prefix) {
  std::ifstream in(truth_csv_path);
  if (!in) throw InputError(truth_csv_path, 0, "", "", "cannot open the truth file");
  std::string line;
  if (!std::getline(in, line)) throw InputError(truth_csv_path, 1, "", "", "empty truth file");
  const std::vector<std::string> header = split_fields(line);
  auto column_of = [&](const std::string& name) {
    for (size_t c = 0; c < header.size(); ++c)
      if (header[c] == name) return c;
    throw InputError(truth_csv_path, 1, name, "", "column missing (generate the data with --checkout-offers)");
  };
  const size_t customer_column = column_of("customer_id"), number_column = column_of("journey_number");
  std::vector<size_t> probability_columns;
  for (const std::string& action : logged.actions) probability_columns.push_back(column_of(column_prefix + action));

  // Only the journeys with a decision are looked up: key "customer#number" -> decision index.
  std::unordered_map<std::string, int64_t> wanted;
  std::vector<int64_t> journey_number(static_cast<size_t>(journeys.size()), 0);
  for (int64_t j = 1; j < journeys.size(); ++j)
    if (journeys.customer[j] == journeys.customer[j - 1]) journey_number[static_cast<size_t>(j)] = journey_number[static_cast<size_t>(j - 1)] + 1;
  for (int64_t i = 0; i < logged.size(); ++i) {
    const int64_t j = logged.journey[static_cast<size_t>(i)];
    wanted[journeys.customers.name(static_cast<int32_t>(journeys.customer[j])) + "#" +
           std::to_string(journey_number[static_cast<size_t>(j)])] = i;
  }
  const auto k = logged.actions.size();
  std::vector<double> probability(static_cast<size_t>(logged.size()) * k, -1.0);
  int64_t line_number = 1, found = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::vector<std::string> fields = split_fields(line);
    if (fields.size() != header.size()) throw InputError(truth_csv_path, line_number, "", line, "wrong number of fields");
    const auto hit = wanted.find(fields[customer_column] + "#" + fields[number_column]);
    if (hit == wanted.end()) continue;
    for (size_t a = 0; a < k; ++a) {
      const std::string& text = fields[probability_columns[a]];
      char* end = nullptr;
      const double p = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(p >= 0.0 && p <= 1.0))
        throw InputError(truth_csv_path, line_number, header[probability_columns[a]], text,
                         "a planted value must be a probability in [0, 1] for a journey with an offer");
      probability[static_cast<size_t>(hit->second) * k + a] = p;
    }
    ++found;
  }
  if (found != logged.size())
    throw InputError(truth_csv_path, 0, "", "",
                     std::to_string(logged.size() - found) + " decisions have no row in the truth file (journeys built "
                     "with another session gap than the generator's?)");
  return probability;
}

}  // namespace jm
