#include "host/core/temp_files.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>

namespace jm {
namespace {

constexpr int kSlots = 16;
constexpr size_t kMaxPath = 4096;

// Each slot: a path buffer and a flag saying it holds a live path. The flag is set after the path
// is written and cleared before the slot is reused, so the handler never reads a half-written path.
struct Slot {
  std::atomic<bool> live{false};
  std::atomic<bool> taken{false};
  char path[kMaxPath] = {};
};
std::array<Slot, kSlots> slots;

extern "C" void remove_temp_files_and_die(int signal_number) {
  for (Slot& slot : slots)
    if (slot.live.load()) ::unlink(slot.path);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

}  // namespace

void install_temp_file_cleanup() {
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal_number, remove_temp_files_and_die);
}

int register_temp_file(const std::string& path) {
  if (path.size() >= kMaxPath) return -1;
  for (int s = 0; s < kSlots; ++s) {
    bool expected = false;
    if (!slots[s].taken.compare_exchange_strong(expected, true)) continue;
    std::memcpy(slots[s].path, path.c_str(), path.size() + 1);
    slots[s].live.store(true);
    return s;
  }
  return -1;
}

void unregister_temp_file(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  slots[slot].live.store(false);
  slots[slot].taken.store(false);
}

}  // namespace jm
