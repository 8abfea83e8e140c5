#!/usr/bin/env bash
# Configures and builds journeymap (Release) into build/ with the CMake from .venv.
# Usage: scripts/build.sh [extra cmake -D options...]
# Environment: JM_BUILD_DIR (default build), JM_JOBS (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${JM_BUILD_DIR:-build}
JOBS=${JM_JOBS:-$(nproc)}
# nvcc is found through PATH or CUDACXX; the toolkit's usual location is tried as well.
if ! command -v nvcc >/dev/null 2>&1 && [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
.venv/bin/cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_MAKE_PROGRAM="$PWD/.venv/bin/ninja" \
  -DCMAKE_BUILD_TYPE=Release "$@" >"$BUILD_DIR.configure.log" 2>&1 || {
  cat "$BUILD_DIR.configure.log"; exit 1; }
grep -E "journeymap: JM_WITH_CUDA" "$BUILD_DIR.configure.log" || true
.venv/bin/cmake --build "$BUILD_DIR" -j "$JOBS"
