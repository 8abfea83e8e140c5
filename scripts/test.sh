#!/usr/bin/env bash
# Sets up, builds and runs every test with CTest. GPU tests skip where no CUDA device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DJM_BUILD_TESTS=ON -DJM_BUILD_BENCH=ON
cd "${JM_BUILD_DIR:-build}"
ctest --output-on-failure -j "${JM_JOBS:-$(nproc)}" --timeout 900
