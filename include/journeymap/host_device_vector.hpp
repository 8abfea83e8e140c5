// A column that knows where its data lives: on the host, on the device, or both in sync. Each side
// is filled lazily, from the other, the first time it is asked for, so data moves at most once each
// way between two writes. Modelled on XGBoost's HostDeviceVector.
//
//   HostDeviceVector<int32_t> touchpoint = std::vector<int32_t>{...};   // on the host
//   DeviceSpan<const int32_t> on_gpu = touchpoint.device_view(ctx);     // uploaded once
//   touchpoint.device_view(ctx);                                         // already there: no copy
//   int32_t first = touchpoint[0];                                       // both valid: no copy
//
// A producer on the GPU writes the device side only (resize_on_device + device_span); the host copy
// is made when host code first reads it. Host reads (operator[], host(), begin()) are safe from
// several threads at once; writes, as for std::vector, are not. Writing on one side drops the other.
// In a build without CUDA (or with a CPU context) the device side is never touched.
#pragma once

#include <atomic>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/device_resources.hpp"

namespace jm {

/// Elements in device memory: a kernel argument, never dereferenced on the host.
template <typename T>
struct DeviceSpan {
  T* data = nullptr;
  size_t size = 0;
  bool empty() const { return size == 0; }
};

template <typename T>
class HostDeviceVector {
  static_assert(std::is_trivially_copyable<T>::value, "device columns hold plain values");

 public:
  using value_type = T;
  using size_type = size_t;
  using const_iterator = typename std::vector<T>::const_iterator;
  using iterator = const_iterator;
  using const_reference = const T&;
  using reference = const T&;

  HostDeviceVector() = default;
  HostDeviceVector(std::vector<T> values) : host_(std::move(values)) {}  // NOLINT: a host column
  HostDeviceVector(std::initializer_list<T> values) : host_(values) {}
  HostDeviceVector(size_t n, const T& value) : host_(n, value) {}
  template <typename InputIt>
  HostDeviceVector(InputIt first, InputIt last) : host_(first, last) {}

  /// A copy is a host copy (the device side belongs to one owner).
  HostDeviceVector(const HostDeviceVector& other) : host_(other.host()) {}
  HostDeviceVector(HostDeviceVector&& other) noexcept { take(std::move(other)); }
  HostDeviceVector& operator=(const HostDeviceVector& other) {
    if (this != &other) assign_host(std::vector<T>(other.host()));
    return *this;
  }
  HostDeviceVector& operator=(HostDeviceVector&& other) noexcept {
    if (this != &other) take(std::move(other));
    return *this;
  }
  HostDeviceVector& operator=(std::vector<T> values) {
    assign_host(std::move(values));
    return *this;
  }
  HostDeviceVector& operator=(std::initializer_list<T> values) {
    assign_host(std::vector<T>(values));
    return *this;
  }

  // ---- where the data is
  bool on_host() const { return host_valid_.load(std::memory_order_acquire); }
  bool on_device() const { return device_ != nullptr && device_->valid; }
  size_t size() const { return on_host() ? host_.size() : device_->size; }
  bool empty() const { return size() == 0; }

  // ---- host reads: the host copy is made on first use
  const std::vector<T>& host() const {
    if (!on_host()) pull_to_host();
    return host_;
  }
  operator const std::vector<T>&() const { return host(); }  // NOLINT: reads like the std::vector it was
  const T& operator[](size_t i) const { return host()[i]; }
  const T& at(size_t i) const { return host().at(i); }
  const T* data() const { return host().data(); }
  const_iterator begin() const { return host().begin(); }
  const_iterator end() const { return host().end(); }
  const_iterator cbegin() const { return host().cbegin(); }
  const_iterator cend() const { return host().cend(); }
  const T& front() const { return host().front(); }
  const T& back() const { return host().back(); }

  // ---- host writes: the device copy is dropped
  std::vector<T>& host_mut() {
    host();
    device_.reset();
    return host_;
  }
  void push_back(const T& value) { host_mut().push_back(value); }
  void pop_back() { host_mut().pop_back(); }
  void resize(size_t n) { host_mut().resize(n); }
  void resize(size_t n, const T& value) { host_mut().resize(n, value); }
  void reserve(size_t n) { host_mut().reserve(n); }
  void assign(size_t n, const T& value) { host_mut().assign(n, value); }
  template <typename InputIt>
  void assign(InputIt first, InputIt last) {
    host_mut().assign(first, last);
  }
  void clear() { assign_host({}); }

  // ---- device side (a GPU context: ctx.device set)
  /// The elements on the device of `ctx`, uploaded on first use.
  DeviceSpan<const T> device_view(const Context& ctx) const {
    DeviceCopy& copy = resident_on(ctx);
    return {copy.data, copy.size};
  }
  /// The elements on the device for writing; the host copy is dropped.
  DeviceSpan<T> device_span(const Context& ctx) {
    DeviceCopy& copy = resident_on(ctx);
    drop_host();
    return {copy.data, copy.size};
  }
  /// `n` uninitialised elements on the device (a GPU producer writes them); the host copy is dropped.
  DeviceSpan<T> resize_on_device(const Context& ctx, size_t n) {
    device_ = std::make_unique<DeviceCopy>(require_device(ctx), n);
    device_->valid = true;
    drop_host();
    return {device_->data, n};
  }

  friend bool operator==(const HostDeviceVector& a, const HostDeviceVector& b) { return a.host() == b.host(); }
  friend bool operator!=(const HostDeviceVector& a, const HostDeviceVector& b) { return !(a == b); }
  friend bool operator==(const HostDeviceVector& a, const std::vector<T>& b) { return a.host() == b; }
  friend bool operator==(const std::vector<T>& a, const HostDeviceVector& b) { return a == b.host(); }

 private:
  // One allocation on one context's device. The mutex serialises the lazy download when several
  // host threads read a device-only column at once.
  struct DeviceCopy {
    DeviceCopy(std::shared_ptr<DeviceResources> owner, size_t n) : resources(std::move(owner)), size(n) {
      if (n > 0) data = static_cast<T*>(resources->allocate(n * sizeof(T)));
    }
    ~DeviceCopy() {
      if (data != nullptr) resources->deallocate(data, size * sizeof(T));
    }
    DeviceCopy(const DeviceCopy&) = delete;
    DeviceCopy& operator=(const DeviceCopy&) = delete;
    std::shared_ptr<DeviceResources> resources;
    T* data = nullptr;
    size_t size = 0;
    bool valid = false;
    std::mutex download;
  };

  static const std::shared_ptr<DeviceResources>& require_device(const Context& ctx) {
    if (!ctx.device) throw std::logic_error("device data needs a GPU context (make_context with a GPU)");
    return ctx.device;
  }

  DeviceCopy& resident_on(const Context& ctx) const {
    const std::shared_ptr<DeviceResources>& resources = require_device(ctx);
    if (device_ != nullptr && device_->valid && device_->resources == resources) return *device_;
    const std::vector<T>& values = host();  // a device-only column of another context comes home first
    device_ = std::make_unique<DeviceCopy>(resources, values.size());
    resources->copy_to_device(device_->data, values.data(), values.size() * sizeof(T));
    device_->valid = true;
    return *device_;
  }

  void pull_to_host() const {
    if (device_ == nullptr || !device_->valid) throw std::logic_error("a column lost both its copies");
    std::lock_guard<std::mutex> lock(device_->download);
    if (host_valid_.load(std::memory_order_relaxed)) return;  // another reader pulled it meanwhile
    host_.resize(device_->size);
    device_->resources->copy_to_host(host_.data(), device_->data, device_->size * sizeof(T));
    host_valid_.store(true, std::memory_order_release);
  }

  void drop_host() {
    host_ = std::vector<T>();  // frees the host memory: the device holds the data now
    host_valid_.store(false, std::memory_order_release);
  }

  void assign_host(std::vector<T> values) {
    host_ = std::move(values);
    host_valid_.store(true, std::memory_order_release);
    device_.reset();
  }

  void take(HostDeviceVector&& other) {
    host_ = std::move(other.host_);
    host_valid_.store(other.host_valid_.load(std::memory_order_acquire), std::memory_order_release);
    device_ = std::move(other.device_);
    other.host_ = std::vector<T>();
    other.host_valid_.store(true, std::memory_order_release);
  }

  mutable std::vector<T> host_;
  mutable std::atomic<bool> host_valid_{true};
  mutable std::unique_ptr<DeviceCopy> device_;
};

}  // namespace jm
