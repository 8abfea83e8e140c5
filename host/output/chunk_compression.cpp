#include "host/output/chunk_compression.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "host/core/thread_pool.hpp"

namespace jm::output_detail {
namespace {

// Chunks compressed at once: bounds the memory held by compressed chunks awaiting their write.
constexpr int64_t kChunksPerWindow = 64;

struct CompressedChunk {
  std::vector<hsize_t> offset;
  std::vector<unsigned char> bytes;
  bool ok = true;
};

}  // namespace

std::vector<unsigned char> shuffle_bytes(const unsigned char* data, size_t elements, size_t element_bytes) {
  std::vector<unsigned char> out(elements * element_bytes);
  if (element_bytes == 1) {  // HDF5's shuffle leaves 1-byte elements as they are
    std::memcpy(out.data(), data, out.size());
    return out;
  }
  for (size_t i = 0; i < elements; ++i)
    for (size_t j = 0; j < element_bytes; ++j) out[j * elements + i] = data[i * element_bytes + j];
  return out;
}

bool write_chunks_compressed(hid_t dataset, const void* data, const std::vector<hsize_t>& dims,
                             const std::vector<hsize_t>& chunk, size_t element_bytes, int deflate_level,
                             hsize_t first_row) {
  if (dims.empty() || dims.size() > 2 || chunk.size() != dims.size() || first_row % chunk[0] != 0) return false;
  const hsize_t rows = dims[0], cols = dims.size() == 2 ? dims[1] : 1;
  const hsize_t chunk_rows = chunk[0], chunk_cols = dims.size() == 2 ? chunk[1] : 1;
  const hsize_t grid_rows = (rows + chunk_rows - 1) / chunk_rows, grid_cols = (cols + chunk_cols - 1) / chunk_cols;
  const auto n_chunks = static_cast<int64_t>(grid_rows * grid_cols);
  const size_t chunk_elements = static_cast<size_t>(chunk_rows * chunk_cols);
  const auto* source = static_cast<const unsigned char*>(data);

  for (int64_t first = 0; first < n_chunks; first += kChunksPerWindow) {
    const int64_t count = std::min(kChunksPerWindow, n_chunks - first);
    std::vector<CompressedChunk> window(static_cast<size_t>(count));
    parallel_for(count, 0, [&](int64_t w) {
      const auto index = static_cast<hsize_t>(first + w);
      const hsize_t row0 = index / grid_cols * chunk_rows, col0 = index % grid_cols * chunk_cols;
      // Gather the chunk (zeros beyond the data's edge), then shuffle and deflate it.
      std::vector<unsigned char> raw(chunk_elements * element_bytes, 0);
      const hsize_t copy_rows = std::min(chunk_rows, rows - row0), copy_cols = std::min(chunk_cols, cols - col0);
      for (hsize_t r = 0; r < copy_rows; ++r)
        std::memcpy(raw.data() + r * chunk_cols * element_bytes, source + ((row0 + r) * cols + col0) * element_bytes,
                    copy_cols * element_bytes);
      const std::vector<unsigned char> shuffled = shuffle_bytes(raw.data(), chunk_elements, element_bytes);
      CompressedChunk& out = window[static_cast<size_t>(w)];
      out.offset = dims.size() == 2 ? std::vector<hsize_t>{first_row + row0, col0} : std::vector<hsize_t>{first_row + row0};
      uLongf size = compressBound(static_cast<uLong>(shuffled.size()));
      out.bytes.resize(size);
      out.ok = compress2(out.bytes.data(), &size, shuffled.data(), static_cast<uLong>(shuffled.size()), deflate_level) == Z_OK;
      out.bytes.resize(size);
      out.bytes.shrink_to_fit();  // the window holds 64 chunks: keep their compressed size, not the bound
    });
    // The file is written by this thread only, in chunk order.
    for (const CompressedChunk& c : window)
      if (!c.ok || H5Dwrite_chunk(dataset, H5P_DEFAULT, 0, c.offset.data(), c.bytes.size(), c.bytes.data()) < 0)
        return false;
  }
  return true;
}

}  // namespace jm::output_detail
