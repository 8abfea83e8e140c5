// XGBoost entry points of a build configured without the library: every one throws an Error that
// says how to install it, so `journeymap train` fails clearly instead of failing to link.
#include "host/model/xgboost_api.hpp"

#include "journeymap/common.hpp"

namespace jm::model_detail {
namespace {
[[noreturn]] void throw_missing() {
  throw Error(
      "XGBoost is not available in this build: run scripts/setup_xgboost.sh, then reconfigure CMake "
      "(it looks for .venv/xgboost; -DJM_WITH_XGBOOST=ON)");
}
}  // namespace

DMatrix::~DMatrix() = default;
DMatrix& DMatrix::operator=(DMatrix&& other) noexcept {
  handle_ = std::exchange(other.handle_, nullptr);
  keep_alive_ = std::move(other.keep_alive_);
  return *this;
}
std::string load_library() { throw_missing(); }
void DMatrix::set_labels(const std::vector<float>&) { throw_missing(); }
void DMatrix::set_feature_names(const std::vector<std::string>&) { throw_missing(); }
DMatrix dmatrix_from_host(const float*, int64_t, int64_t, int) { throw_missing(); }
DMatrix dmatrix_from_device(const float*, int64_t, int64_t, intptr_t, int, std::shared_ptr<void>) { throw_missing(); }

Booster::Booster(const std::vector<const DMatrix*>&) { throw_missing(); }
Booster Booster::from_bytes(const std::string&) { throw_missing(); }
Booster::~Booster() = default;
Booster& Booster::operator=(Booster&& other) noexcept {
  handle_ = std::exchange(other.handle_, nullptr);
  return *this;
}
void Booster::set_param(const std::string&, const std::string&) { throw_missing(); }
void Booster::update(int, const DMatrix&) { throw_missing(); }
std::string Booster::evaluate(int, const std::vector<const DMatrix*>&, const std::vector<std::string>&) { throw_missing(); }
std::vector<float> Booster::predict(const DMatrix&, int, int, std::vector<uint64_t>*) const { throw_missing(); }
Booster Booster::slice(int, int) const { throw_missing(); }
int Booster::boosted_rounds() const { throw_missing(); }
int64_t Booster::num_features() const { throw_missing(); }
std::string Booster::save_ubjson() const { throw_missing(); }
void Booster::set_attribute(const std::string&, const std::string&) { throw_missing(); }
std::string Booster::attribute(const std::string&, bool*) const { throw_missing(); }
void Booster::set_feature_names(const std::vector<std::string>&) { throw_missing(); }
std::vector<std::string> Booster::feature_names() const { throw_missing(); }
std::pair<std::vector<std::string>, std::vector<float>> Booster::feature_score(const std::string&) const { throw_missing(); }

Tracker::Tracker(int, const std::string&, int) : timeout_seconds_(0) { throw_missing(); }
Tracker::~Tracker() = default;
std::string Tracker::worker_arguments() const { throw_missing(); }
void Tracker::abandon() {}
Communicator::Communicator(const std::string&) { throw_missing(); }
Communicator::~Communicator() = default;

bool library_available() { return false; }
std::string library_version() { return "not installed (run scripts/setup_xgboost.sh)"; }

}  // namespace jm::model_detail
