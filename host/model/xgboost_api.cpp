// The XGBoost C API behind the RAII owners of xgboost_api.hpp. Every call goes through
// XGB_TRY, which throws jm::Error with the call and XGBGetLastError()'s message; destructors use the
// non-throwing free functions and ignore their status (nothing sensible can be done then).
//
// libxgboost is not linked: its C API is resolved on first use (host/core/shared_library.hpp), so
// commands that train or score no model never load it (~20 MB and its OpenMP runtime).
#include "host/model/xgboost_api.hpp"

#include <xgboost/c_api.h>
#include <xgboost/version_config.h>

#include <cstdio>
#include <cstring>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "host/core/shared_library.hpp"
#include "journeymap/common.hpp"

#ifndef JM_XGBOOST_LIBRARY_PATH
#define JM_XGBOOST_LIBRARY_PATH ""
#endif

namespace jm::model_detail {
namespace {

SharedLibrary& xgboost_library() {
  // The soname (LD_LIBRARY_PATH, journeymap's RUNPATH: a relocated install), then the file the
  // build found.
  static SharedLibrary library("XGBoost (conversion prediction: train, score, run's model stage)",
                               {"libxgboost.so." + std::to_string(XGBOOST_VER_MAJOR), JM_XGBOOST_LIBRARY_PATH});
  return library;
}

// The C API functions journeymap calls, each resolved once.
#define JM_XGBOOST_FUNCTION(name) decltype(&::name) name = library.function<decltype(::name)>(#name)
struct XgboostApi {
  SharedLibrary& library = xgboost_library();
  JM_XGBOOST_FUNCTION(XGBGetLastError);
  JM_XGBOOST_FUNCTION(XGBoostVersion);
  JM_XGBOOST_FUNCTION(XGBoosterBoostedRounds);
  JM_XGBOOST_FUNCTION(XGBoosterCreate);
  JM_XGBOOST_FUNCTION(XGBoosterEvalOneIter);
  JM_XGBOOST_FUNCTION(XGBoosterFeatureScore);
  JM_XGBOOST_FUNCTION(XGBoosterFree);
  JM_XGBOOST_FUNCTION(XGBoosterGetAttr);
  JM_XGBOOST_FUNCTION(XGBoosterGetNumFeature);
  JM_XGBOOST_FUNCTION(XGBoosterGetStrFeatureInfo);
  JM_XGBOOST_FUNCTION(XGBoosterLoadModelFromBuffer);
  JM_XGBOOST_FUNCTION(XGBoosterPredictFromDMatrix);
  JM_XGBOOST_FUNCTION(XGBoosterSaveModelToBuffer);
  JM_XGBOOST_FUNCTION(XGBoosterSetAttr);
  JM_XGBOOST_FUNCTION(XGBoosterSetParam);
  JM_XGBOOST_FUNCTION(XGBoosterSetStrFeatureInfo);
  JM_XGBOOST_FUNCTION(XGBoosterSlice);
  JM_XGBOOST_FUNCTION(XGBoosterUpdateOneIter);
  JM_XGBOOST_FUNCTION(XGDMatrixCreateFromCudaArrayInterface);
  JM_XGBOOST_FUNCTION(XGDMatrixCreateFromDense);
  JM_XGBOOST_FUNCTION(XGDMatrixFree);
  JM_XGBOOST_FUNCTION(XGDMatrixSetInfoFromInterface);
  JM_XGBOOST_FUNCTION(XGDMatrixSetStrFeatureInfo);
  JM_XGBOOST_FUNCTION(XGTrackerCreate);
  JM_XGBOOST_FUNCTION(XGTrackerRun);
  JM_XGBOOST_FUNCTION(XGTrackerWorkerArgs);
  JM_XGBOOST_FUNCTION(XGTrackerWaitFor);
  JM_XGBOOST_FUNCTION(XGTrackerFree);
  JM_XGBOOST_FUNCTION(XGCommunicatorInit);
  JM_XGBOOST_FUNCTION(XGCommunicatorFinalize);
  JM_XGBOOST_FUNCTION(XGBRegisterLogCallback);
};
#undef JM_XGBOOST_FUNCTION

const XgboostApi& xgb() {
  // Thread-safe; a failed load throws here, and again on the next call.
  static const XgboostApi api = [] {
    XgboostApi loaded;
    int major = 0, minor = 0, patch = 0;
    loaded.XGBoostVersion(&major, &minor, &patch);
    if (major != XGBOOST_VER_MAJOR)
      throw Error(fmt::format("{} is XGBoost {}.{}.{}, but journeymap was built against {}.{}.{} (major versions must match)",
                              xgboost_library().path(), major, minor, patch, XGBOOST_VER_MAJOR, XGBOOST_VER_MINOR,
                              XGBOOST_VER_PATCH));
    return loaded;
  }();
  return api;
}

[[noreturn]] void throw_xgboost_error(const char* call) {
  throw Error(fmt::format("XGBoost: {} failed: {}", call, xgb().XGBGetLastError()));
}

#define XGB_TRY(call)                                  \
  do {                                                 \
    if ((call) != 0) throw_xgboost_error(#call);       \
  } while (0)

// A numpy-style __array_interface__ for `rows x cols` float32 values (cols 0: a vector).
std::string array_interface(const void* data, int64_t rows, int64_t cols, const char* extra = "") {
  const std::string shape = cols > 0 ? fmt::format("[{}, {}]", rows, cols) : fmt::format("[{}]", rows);
  return fmt::format(R"({{"data": [{}, true], "shape": {}, "typestr": "<f4", "version": 3{}}})",
                     reinterpret_cast<uintptr_t>(data), shape, extra);
}

// XGBoost's last error without its stack trace and source locations, for errors a user meets
// (the network of its collective): "Failed to bind socket. system error:Cannot assign requested
// address".
std::string last_error_summary() {
  std::string text = xgb().XGBGetLastError();
  text = text.substr(0, text.find("Stack trace:"));
  // XGBoost's prefixes go: "[16:31:25]", "[tracker.cc:133|16:31:25]:", "/path/result.cc:83:" and
  // list dashes.
  static const std::regex noise(
      R"(\[\d\d:\d\d:\d\d\]|\[[\w./-]+\.(cc|h|cu|cuh):\d+\|[\d:]+\]:?|\S+\.(cc|h|cu|cuh):\d+:|^\s*-\s)");
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    line = std::regex_replace(line, noise, "");
    const size_t first = line.find_first_not_of(" \t"), last = line.find_last_not_of(" \t");
    if (first == std::string::npos) continue;
    out += (out.empty() ? "" : "; ") + line.substr(first, last - first + 1);
  }
  return out.empty() ? text : out;
}

std::vector<const char*> c_strings(const std::vector<std::string>& names) {
  std::vector<const char*> out;
  out.reserve(names.size());
  for (const auto& name : names) out.push_back(name.c_str());
  return out;
}

}  // namespace

DMatrix::~DMatrix() {
  if (handle_) xgb().XGDMatrixFree(handle_);
}

DMatrix& DMatrix::operator=(DMatrix&& other) noexcept {
  if (this != &other) {
    if (handle_) xgb().XGDMatrixFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    keep_alive_ = std::move(other.keep_alive_);
  }
  return *this;
}

void DMatrix::set_labels(const std::vector<float>& labels) {
  const std::string interface = array_interface(labels.data(), static_cast<int64_t>(labels.size()), 0);
  XGB_TRY(xgb().XGDMatrixSetInfoFromInterface(handle_, "label", interface.c_str()));
}

void DMatrix::set_feature_names(const std::vector<std::string>& names) {
  auto pointers = c_strings(names);
  XGB_TRY(xgb().XGDMatrixSetStrFeatureInfo(handle_, "feature_name", pointers.data(), pointers.size()));
}

DMatrix dmatrix_from_host(const float* values, int64_t rows, int64_t cols, int num_threads) {
  const std::string interface = array_interface(values, rows, cols);
  const std::string config = fmt::format(R"({{"missing": NaN, "nthread": {}}})", num_threads);
  DMatrixHandle handle = nullptr;
  XGB_TRY(xgb().XGDMatrixCreateFromDense(interface.c_str(), config.c_str(), &handle));
  return DMatrix(handle, nullptr);
}

DMatrix dmatrix_from_device(const float* device_values, int64_t rows, int64_t cols, intptr_t stream,
                            int num_threads, std::shared_ptr<void> keep_alive) {
  // Stream 0 is ambiguous in the CUDA array interface; 1 names the legacy default stream.
  const std::string stream_field = fmt::format(R"(, "stream": {})", stream == 0 ? intptr_t{1} : stream);
  const std::string interface = array_interface(device_values, rows, cols, stream_field.c_str());
  const std::string config = fmt::format(R"({{"missing": NaN, "nthread": {}}})", num_threads);
  DMatrixHandle handle = nullptr;
  XGB_TRY(xgb().XGDMatrixCreateFromCudaArrayInterface(interface.c_str(), config.c_str(), &handle));
  return DMatrix(handle, std::move(keep_alive));
}

Booster::Booster(const std::vector<const DMatrix*>& matrices) {
  std::vector<DMatrixHandle> handles;
  for (const DMatrix* m : matrices) handles.push_back(m->handle());
  XGB_TRY(xgb().XGBoosterCreate(handles.data(), handles.size(), &handle_));
}

Booster Booster::from_bytes(const std::string& bytes) {
  Booster booster;
  XGB_TRY(xgb().XGBoosterCreate(nullptr, 0, &booster.handle_));
  XGB_TRY(xgb().XGBoosterLoadModelFromBuffer(booster.handle_, bytes.data(), bytes.size()));
  return booster;
}

Booster::~Booster() {
  if (handle_) xgb().XGBoosterFree(handle_);
}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_) xgb().XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void Booster::set_param(const std::string& name, const std::string& value) {
  XGB_TRY(xgb().XGBoosterSetParam(handle_, name.c_str(), value.c_str()));
}

void Booster::update(int iteration, const DMatrix& train) { XGB_TRY(xgb().XGBoosterUpdateOneIter(handle_, iteration, train.handle())); }

std::string Booster::evaluate(int iteration, const std::vector<const DMatrix*>& matrices,
                              const std::vector<std::string>& names) {
  std::vector<DMatrixHandle> handles;
  for (const DMatrix* m : matrices) handles.push_back(m->handle());
  auto pointers = c_strings(names);
  const char* line = nullptr;
  XGB_TRY(xgb().XGBoosterEvalOneIter(handle_, iteration, handles.data(), pointers.data(), handles.size(), &line));
  return line;
}

std::vector<float> Booster::predict(const DMatrix& matrix, int type, int iteration_end, std::vector<uint64_t>* shape) const {
  const std::string config = fmt::format(
      R"({{"type": {}, "training": false, "iteration_begin": 0, "iteration_end": {}, "strict_shape": false}})", type,
      iteration_end);
  const bst_ulong* out_shape = nullptr;
  bst_ulong out_dim = 0;
  const float* out_result = nullptr;
  XGB_TRY(xgb().XGBoosterPredictFromDMatrix(handle_, matrix.handle(), config.c_str(), &out_shape, &out_dim, &out_result));
  uint64_t total = 1;
  std::vector<uint64_t> dims(out_shape, out_shape + out_dim);
  for (uint64_t d : dims) total *= d;
  if (shape) *shape = dims;
  // The buffer belongs to the booster and is overwritten by its next call: copy it now.
  return std::vector<float>(out_result, out_result + total);
}

Booster Booster::slice(int begin, int end) const {
  Booster out;
  XGB_TRY(xgb().XGBoosterSlice(handle_, begin, end, 1, &out.handle_));
  return out;
}

int Booster::boosted_rounds() const {
  int rounds = 0;
  XGB_TRY(xgb().XGBoosterBoostedRounds(handle_, &rounds));
  return rounds;
}

int64_t Booster::num_features() const {
  bst_ulong n = 0;
  XGB_TRY(xgb().XGBoosterGetNumFeature(handle_, &n));
  return static_cast<int64_t>(n);
}

std::string Booster::save_ubjson() const {
  bst_ulong length = 0;
  const char* bytes = nullptr;
  XGB_TRY(xgb().XGBoosterSaveModelToBuffer(handle_, R"({"format": "ubj"})", &length, &bytes));
  return std::string(bytes, bytes + length);
}

void Booster::set_attribute(const std::string& key, const std::string& value) {
  XGB_TRY(xgb().XGBoosterSetAttr(handle_, key.c_str(), value.c_str()));
}

std::string Booster::attribute(const std::string& key, bool* found) const {
  const char* value = nullptr;
  int success = 0;
  XGB_TRY(xgb().XGBoosterGetAttr(handle_, key.c_str(), &value, &success));
  *found = success != 0;
  return success ? std::string(value) : std::string();
}

void Booster::set_feature_names(const std::vector<std::string>& names) {
  auto pointers = c_strings(names);
  XGB_TRY(xgb().XGBoosterSetStrFeatureInfo(handle_, "feature_name", pointers.data(), pointers.size()));
}

std::vector<std::string> Booster::feature_names() const {
  bst_ulong n = 0;
  const char** names = nullptr;
  XGB_TRY(xgb().XGBoosterGetStrFeatureInfo(handle_, "feature_name", &n, &names));
  return std::vector<std::string>(names, names + n);
}

std::pair<std::vector<std::string>, std::vector<float>> Booster::feature_score(const std::string& type) const {
  const std::string config = fmt::format(R"({{"importance_type": "{}"}})", type);
  bst_ulong n_features = 0, dim = 0;
  const char** features = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  XGB_TRY(xgb().XGBoosterFeatureScore(handle_, config.c_str(), &n_features, &features, &dim, &shape, &scores));
  std::vector<std::string> names(features, features + n_features);
  return {names, std::vector<float>(scores, scores + n_features)};
}

Tracker::Tracker(int workers, const std::string& host, int timeout_seconds) : timeout_seconds_(timeout_seconds) {
  // sortby 1: ranks by the workers' task ids, so that XGBoost's ranks are the processes' ranks.
  const nlohmann::json config = {{"dmlc_communicator", "rabit"}, {"n_workers", workers}, {"host", host},
                                 {"port", 0},                    {"sortby", 1},         {"timeout", timeout_seconds}};
  auto cannot_start = [&] {
    return Error(fmt::format(
        "XGBoost's tracker cannot listen on {} (the address of process 0's host, or JM_XGBOOST_TRACKER_HOST): {}", host,
        last_error_summary()));
  };
  if (xgb().XGTrackerCreate(config.dump().c_str(), &handle_) != 0) throw cannot_start();
  if (xgb().XGTrackerRun(handle_, "{}") != 0) {
    const Error error = cannot_start();
    xgb().XGTrackerFree(handle_);
    throw error;
  }
}

Tracker::~Tracker() {
  if (handle_ == nullptr) return;
  const std::string config = fmt::format(R"({{"timeout": {}}})", timeout_seconds_);
  xgb().XGTrackerWaitFor(handle_, config.c_str());
  xgb().XGTrackerFree(handle_);
}

void Tracker::abandon() {
  if (handle_ != nullptr) xgb().XGTrackerFree(std::exchange(handle_, nullptr));
}

std::string Tracker::worker_arguments() const {
  const char* arguments = nullptr;
  XGB_TRY(xgb().XGTrackerWorkerArgs(handle_, &arguments));
  return arguments;
}

// XGBoost's log lines of this thread, as its own console logger writes them, less the note each
// worker makes of its rank when it joins the collective (one line per process and job, which says
// nothing to a user and ignores --quiet).
void write_xgboost_log(const char* message) {
  if (std::strstr(message, " got rank ") != nullptr) return;
  std::fprintf(stderr, "%s\n", message);
}

Communicator::Communicator(const std::string& config) {
  xgb().XGBRegisterLogCallback(write_xgboost_log);  // for this thread, which joins the collective
  if (xgb().XGCommunicatorInit(config.c_str()) != 0)
    throw Error(fmt::format("cannot join XGBoost's collective ({}): {}", config, last_error_summary()));
}

Communicator::~Communicator() { xgb().XGCommunicatorFinalize(); }

bool library_available() { return true; }

std::string library_version() {
  return fmt::format("{}.{}.{}", XGBOOST_VER_MAJOR, XGBOOST_VER_MINOR, XGBOOST_VER_PATCH);
}

std::string load_library() {
  int major = 0, minor = 0, patch = 0;
  xgb().XGBoostVersion(&major, &minor, &patch);
  return fmt::format("{} (XGBoost {}.{}.{})", xgboost_library().path(), major, minor, patch);
}

}  // namespace jm::model_detail
