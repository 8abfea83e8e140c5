// The Parquet module (libjourneymap_parquet.so, Apache Arrow inside) as the rest of journeymap calls
// it: opened on first use by whichever of export and input needs it first.
#pragma once

#include <string>

#include "host/ingest/parquet_columns.hpp"

namespace jm {

/// Reads the requested columns of a Parquet file through the module. Returns false with
/// result.error set when the file or a column cannot be read; throws jm::Error when the build has
/// no Apache Arrow or the module cannot be loaded.
bool read_parquet_columns(const std::string& path, const parquet_input::Request& request,
                          parquet_input::Result& result);

}  // namespace jm
