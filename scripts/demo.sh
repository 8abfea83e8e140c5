#!/usr/bin/env bash
# Sets up, builds, generates the default dataset, runs the whole pipeline and writes
# out/journeymap.h5, then prints a readable summary.
# Environment: JM_DEMO_JOURNEYS (default 200000), JM_DEVICE (auto | cpu | gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DJM_BUILD_TESTS=OFF -DJM_BUILD_BENCH=OFF
BIN=${JM_BUILD_DIR:-build}/journeymap
JOURNEYS=${JM_DEMO_JOURNEYS:-200000}
mkdir -p data out
if [ ! -s data/events.csv ] || [ "$(cat data/.journeys 2>/dev/null)" != "$JOURNEYS" ]; then
  "$BIN" generate --journeys "$JOURNEYS" --seed 20260105 --out data/events.csv
  echo "$JOURNEYS" > data/.journeys
fi
"$BIN" run --config scripts/demo.toml --input data/events.csv --out out/journeymap.h5 --device "${JM_DEVICE:-auto}"
echo
"$BIN" info out/journeymap.h5
"$BIN" report out/journeymap.h5 -o out/report.html
echo "report: out/report.html (self-contained; open it in any browser, offline)"
