// Feature columns kept in a scratch file (feature_columns_file.hpp).
#include "host/features/feature_columns_file.hpp"

#include "journeymap/common.hpp"
#include "journeymap/feature_rules.hpp"

namespace jm {

FeatureColumnsFile::FeatureColumnsFile(const std::string& directory, const std::string& suffix, const FeatureSpec& spec,
                                       const std::vector<std::string>& columns, const std::string& what)
    : file_(std::make_unique<SpoolFile>(directory, suffix)), scaling_(spec, columns) {
  if (columns.empty()) throw ConfigError(what + ": no numeric feature columns");
  columns_ = scaling_.matrix_columns();
}

void FeatureColumnsFile::add(const FeatureMatrix& batch) {
  const int64_t n = batch.n_rows, f = batch.num_features();
  const int dims = this->dims();
  const std::vector<float>& values = batch.values.host();
  std::vector<float> rows(static_cast<size_t>(n * dims));
  for (int64_t r = 0; r < n; ++r)
    for (int i = 0; i < dims; ++i) rows[static_cast<size_t>(r * dims + i)] = values[static_cast<size_t>(r * f + columns_[i])];
  scaling_.add(values.data(), n, f, columns_);
  file_->append(rows.data(), rows.size() * sizeof(float));
  rows_ += n;
}

void FeatureColumnsFile::read(int64_t first, int64_t count, float* out) const {
  if (first < 0 || count < 0 || first + count > rows_) throw Error("feature columns: read past the rows written");
  const auto row_bytes = static_cast<int64_t>(dims()) * static_cast<int64_t>(sizeof(float));
  file_->read(first * row_bytes, out, static_cast<size_t>(count * row_bytes));
}

std::vector<float> FeatureColumnsFile::read_rows(const std::vector<int64_t>& indices) const {
  const auto width = static_cast<size_t>(dims());
  std::vector<float> out(indices.size() * width);
  for (size_t begin = 0; begin < indices.size();) {
    size_t end = begin + 1;
    while (end < indices.size() && indices[end] == indices[end - 1] + 1) ++end;
    read(indices[begin], static_cast<int64_t>(end - begin), out.data() + begin * width);
    begin = end;
  }
  return out;
}

void FeatureColumnsFile::read_scaled(int64_t first, int64_t count, const FeatureScaling& scaling,
                                     std::vector<float>& out) const {
  out.resize(static_cast<size_t>(count * dims()));
  read(first, count, out.data());
  standardise_rows(scaling, out);
}

void standardise_rows(const FeatureScaling& scaling, std::vector<float>& rows) {
  const auto dims = static_cast<size_t>(scaling.dims());
  for (size_t at = 0; at < rows.size(); ++at) {
    const size_t i = at % dims;
    rows[at] = feature_rules::standardise(rows[at], scaling.transform[i], scaling.mean[i], scaling.scale[i]);
  }
}

}  // namespace jm
