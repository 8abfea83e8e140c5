// Thin RAII layer over XGBoost's C API: move-only owners of DMatrix and Booster handles, and one
// checking wrapper that turns a non-zero return code into a jm::Error carrying XGBGetLastError().
// This header does not include c_api.h (handles are void*), so the CPU twin, the CUDA twin and the
// build without XGBoost (xgboost_unavailable.cpp: every function throws) share it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/model.hpp"

namespace jm::model_detail {

/// Owner of a DMatrixHandle. `keep_alive` holds memory the matrix was built from (the device copy
/// of the features on the GPU path) for as long as the matrix lives.
class DMatrix {
 public:
  DMatrix() = default;
  DMatrix(void* handle, std::shared_ptr<void> keep_alive) : handle_(handle), keep_alive_(std::move(keep_alive)) {}
  ~DMatrix();
  DMatrix(DMatrix&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)), keep_alive_(std::move(other.keep_alive_)) {}
  DMatrix& operator=(DMatrix&& other) noexcept;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;

  void* handle() const { return handle_; }
  void set_labels(const std::vector<float>& labels);
  void set_feature_names(const std::vector<std::string>& names);

 private:
  void* handle_ = nullptr;
  std::shared_ptr<void> keep_alive_;
};

/// Dense host matrix, row-major, NaN = missing (XGDMatrixCreateFromDense).
DMatrix dmatrix_from_host(const float* values, int64_t rows, int64_t cols, int num_threads);
/// Dense device matrix (XGDMatrixCreateFromCudaArrayInterface); XGBoost waits on `stream`
/// (a cudaStream_t as an integer) before reading, as the CUDA array interface prescribes.
DMatrix dmatrix_from_device(const float* device_values, int64_t rows, int64_t cols, intptr_t stream,
                            int num_threads, std::shared_ptr<void> keep_alive);

/// Owner of a BoosterHandle.
class Booster {
 public:
  /// A new booster that caches predictions for `matrices` (the training and evaluation sets).
  explicit Booster(const std::vector<const DMatrix*>& matrices);
  /// A booster read from a serialized model (UBJSON or JSON bytes).
  static Booster from_bytes(const std::string& bytes);
  ~Booster();
  Booster(Booster&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Booster& operator=(Booster&& other) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;

  void set_param(const std::string& name, const std::string& value);
  void update(int iteration, const DMatrix& train);
  /// XGBoost's evaluation line, e.g. "[3]\ttrain-logloss:0.41\tvalid-logloss:0.45".
  std::string evaluate(int iteration, const std::vector<const DMatrix*>& matrices, const std::vector<std::string>& names);
  /// type 0: prediction, 2: SHAP contributions. `iteration_end` 0 = all rounds. `shape` receives the output shape.
  std::vector<float> predict(const DMatrix& matrix, int type, int iteration_end, std::vector<uint64_t>* shape) const;
  /// The rounds [begin, end) as a new booster.
  Booster slice(int begin, int end) const;
  int boosted_rounds() const;
  int64_t num_features() const;
  std::string save_ubjson() const;
  void set_attribute(const std::string& key, const std::string& value);
  /// The attribute's value; `found` false when absent.
  std::string attribute(const std::string& key, bool* found) const;
  void set_feature_names(const std::vector<std::string>& names);
  std::vector<std::string> feature_names() const;
  /// (feature names, scores) of XGBoosterFeatureScore: only features used in a split appear.
  std::pair<std::vector<std::string>, std::vector<float>> feature_score(const std::string& type) const;

 private:
  Booster() = default;
  void* handle_ = nullptr;
};

/// XGBoost's tracker (XGTrackerCreate, XGTrackerRun): the rendezvous of the processes that join its
/// collective, running in the background of the process that made it.
class Tracker {
 public:
  /// Listens on `host` (an address the workers reach) on a port the system picks.
  Tracker(int workers, const std::string& host, int timeout_seconds);
  /// Waits for the workers to leave (XGTrackerWaitFor), then frees the tracker.
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;
  /// What a worker passes to XGCommunicatorInit (JSON: the tracker's address and port).
  std::string worker_arguments() const;
  /// Frees the tracker now, without waiting for workers (none joined, or the run is ending).
  void abandon();

 private:
  void* handle_ = nullptr;
  int timeout_seconds_;
};

/// This thread's membership of XGBoost's collective: XGCommunicatorInit with `config` (a tracker's
/// worker arguments and this worker's task id), left by the destructor (XGCommunicatorFinalize).
class Communicator {
 public:
  explicit Communicator(const std::string& config);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
};

/// Whether the build has XGBoost, and the version it was built against ("3.4.1"). Neither opens
/// the library, which is loaded on first use.
bool library_available();
std::string library_version();
/// Opens the library now; returns "<file> (XGBoost 3.4.1)". Throws jm::Error saying where it was
/// looked for, or that its major version differs from the build's.
std::string load_library();

}  // namespace jm::model_detail

namespace jm::cpu_impl {
/// The matrix in host memory (XGDMatrixCreateFromDense); pairs with device=cpu.
model_detail::DMatrix make_dmatrix(const Context& ctx, MatrixView features);
}  // namespace jm::cpu_impl

namespace jm::cuda_impl {
/// The matrix uploaded to the device and handed over as a CUDA array interface; pairs with device=cuda.
model_detail::DMatrix make_dmatrix(const Context& ctx, MatrixView features);
}  // namespace jm::cuda_impl
