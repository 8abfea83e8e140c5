// Hands memory the program has freed back to the operating system.
//
// glibc keeps freed blocks of its heaps mapped for reuse. That is usually what one wants, but a
// stage that frees one large structure piece by piece while building another from fresh pages
// (the pattern collector's store and its answer) would otherwise hold both at their peak.
#pragma once

namespace jm {

/// Returns the whole free pages of every malloc arena to the system (glibc's malloc_trim); does
/// nothing with other C libraries. It walks the free lists: call it after large releases, not
/// after every one.
void release_free_memory();

}  // namespace jm
