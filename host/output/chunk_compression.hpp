// Compressed chunked datasets written chunk by chunk, with the compression spread over threads.
//
// Why: HDF5 runs its filter pipeline (shuffle + deflate) on the writing thread, one chunk after
// another, so writing the journeys and the feature matrix of 1M journeys spent ~6 s of one core in
// zlib while the others idled. Here the same filters are applied to many chunks at once on the
// thread pool and each finished chunk goes to the file with H5Dwrite_chunk; readers (this
// library, h5py, h5dump) decode it through the filters declared on the dataset as usual.
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace jm::output_detail {

/// HDF5's shuffle filter on one chunk: byte j of element i moves to j * elements + i.
std::vector<unsigned char> shuffle_bytes(const unsigned char* data, size_t elements, size_t element_bytes);

/// Writes `data` (row-major, `dims`, elements of `element_bytes` in the file's byte order) into
/// `dataset`, which must be chunked by `chunk` with exactly the filters shuffle then deflate at
/// `deflate_level`. Edge chunks are padded with zeros to the full chunk size, as HDF5 stores them.
/// Supports 1- and 2-dimensional datasets. `data` goes to the dataset's rows from `first_row` on (a
/// multiple of the chunk's rows; the dataset must already be that large). Returns false on an HDF5
/// error (the caller reports it).
bool write_chunks_compressed(hid_t dataset, const void* data, const std::vector<hsize_t>& dims,
                             const std::vector<hsize_t>& chunk, size_t element_bytes, int deflate_level,
                             hsize_t first_row = 0);

}  // namespace jm::output_detail
