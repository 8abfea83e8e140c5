#!/usr/bin/env bash
# The one prepared GPU run: on a machine with an NVIDIA GPU, build for sm_90 (unless a build is
# given), run the GPU tests and the GPU benchmarks, and write every log under LOG_DIR.
# Usage: scripts/gpu_check.sh LOG_DIR [BUILD_DIR]
#   BUILD_DIR defaults to build-sm90; it is built here when it has no test binaries.
#   Shared libraries that the machine lacks may be placed in BUILD_DIR/lib (added to LD_LIBRARY_PATH).
set -uo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=${1:?usage: scripts/gpu_check.sh LOG_DIR [BUILD_DIR]}
BUILD_DIR=${2:-build-sm90}
mkdir -p "$LOG_DIR"
export LD_LIBRARY_PATH="$PWD/$BUILD_DIR/lib:${LD_LIBRARY_PATH:-}"
{
  date -u; nvidia-smi || true; nvcc --version || true
} >"$LOG_DIR/machine.log" 2>&1

if [ ! -x "$BUILD_DIR/tests/test_journeys" ]; then
  JM_BUILD_DIR="$BUILD_DIR" scripts/build.sh -DCMAKE_CUDA_ARCHITECTURES=90 >"$LOG_DIR/build.log" 2>&1 ||
    { echo "build failed: see $LOG_DIR/build.log"; tail -30 "$LOG_DIR/build.log"; exit 1; }
fi
"$BUILD_DIR/journeymap" --version >"$LOG_DIR/version.log" 2>&1

status=0
# GPU tests: every test binary, GPU instantiations included (they compare against the CPU twin).
for test_binary in "$BUILD_DIR"/tests/test_*; do
  [ -x "$test_binary" ] || continue
  name=$(basename "$test_binary")
  timeout 300 "$test_binary" --gtest_brief=1 >"$LOG_DIR/$name.log" 2>&1 || { status=1; echo "FAILED: $name"; }
done
grep -h -E "PASSED|FAILED|SKIPPED \]" "$LOG_DIR"/test_*.log | sort | uniq -c >"$LOG_DIR/tests_summary.log"

# Benchmarks: GPU journey building at 1M/10M/100M events beside the CPU at 1M/10M.
JM_BENCH_LARGE=1 timeout 300 "$BUILD_DIR/bench/bench_journeys" --benchmark_min_time=0.2 \
  --benchmark_out="$LOG_DIR/bench_journeys.json" --benchmark_out_format=json >"$LOG_DIR/bench_journeys.log" 2>&1 ||
  { status=1; echo "FAILED: bench_journeys"; }
# GPU benchmarks of the analysis stages (each bounded; the GPU rows beside the CPU ones).
for bench in bench_features bench_segments bench_flows bench_anomalies bench_patterns bench_model; do
  [ -x "$BUILD_DIR/bench/$bench" ] || continue
  timeout 120 "$BUILD_DIR/bench/$bench" --benchmark_min_time=0.1 --benchmark_filter='[Gg]pu|GPU|cuda' \
    --benchmark_out="$LOG_DIR/$bench.json" --benchmark_out_format=json >"$LOG_DIR/$bench.log" 2>&1 ||
    echo "bench $bench exited $? (see $LOG_DIR/$bench.log)"
done
# The whole pipeline per stage on the GPU at 1M and 10M generated journeys (issue target: 10M
# journeys / ~100M events through every stage in under 10 s of GPU wall time, ingest excluded).
timeout 300 "$BUILD_DIR/journeymap" bench --journeys 1000000 --journeys 10000000 --device gpu \
  --out "$LOG_DIR/bench_pipeline_gpu.json" >"$LOG_DIR/bench_pipeline_gpu.log" 2>&1 ||
  echo "journeymap bench exited $? (see $LOG_DIR/bench_pipeline_gpu.log)"
cat "$LOG_DIR/tests_summary.log"
tail -12 "$LOG_DIR/bench_journeys.log"
exit $status
