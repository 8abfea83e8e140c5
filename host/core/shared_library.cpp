#include "host/core/shared_library.hpp"

#include <dlfcn.h>
#include <link.h>

#include <utility>

#include "journeymap/common.hpp"

namespace jm {

SharedLibrary::SharedLibrary(std::string purpose, std::vector<std::string> candidates)
    : purpose_(std::move(purpose)), candidates_(std::move(candidates)) {}

void SharedLibrary::load() {
  std::call_once(once_, [this] {
    std::string tried;
    for (const std::string& candidate : candidates_) {
      if (candidate.empty()) continue;
      // RTLD_LOCAL: the library's symbols do not leak into later look-ups by other libraries.
      if (void* handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        opened_from_ = candidate;
        // The file the loader actually picked (a bare soname says little).
        link_map* map = nullptr;
        if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
            map->l_name[0] != '\0')
          opened_from_ = map->l_name;
        handle_.store(handle, std::memory_order_release);
        return;
      }
      const char* error = dlerror();
      tried += "\n  " + candidate + ": " + (error != nullptr ? error : "not found");
    }
    failure_ = "cannot load " + purpose_ + "; tried:" + tried;
  });
  if (handle_.load(std::memory_order_acquire) == nullptr) throw Error(failure_);
}

void* SharedLibrary::symbol(const char* name) {
  load();
  dlerror();  // clear a stale error
  void* address = dlsym(handle_.load(std::memory_order_acquire), name);
  if (address == nullptr) {
    const char* error = dlerror();
    throw Error("symbol " + std::string(name) + " missing from " + opened_from_ + " (" + purpose_ +
                "): " + (error != nullptr ? error : "null address"));
  }
  return address;
}

bool SharedLibrary::loaded() const { return handle_.load(std::memory_order_acquire) != nullptr; }

std::string SharedLibrary::path() const { return opened_from_; }

}  // namespace jm
