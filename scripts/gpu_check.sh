#!/usr/bin/env bash
# The one prepared GPU run: on a machine with an NVIDIA GPU, build for sm_90 (unless a build is
# given), run the GPU tests, then the end-to-end benchmark at 1M and 10M journeys, then the
# per-stage GPU benchmarks; every log goes under LOG_DIR. The whole run keeps to a time budget
# (JM_GPU_CHECK_SECONDS, default 480): each step gets what is left, and steps that no longer fit
# are skipped and named in LOG_DIR/skipped.log, so the most valuable results come first.
# Usage: scripts/gpu_check.sh LOG_DIR [BUILD_DIR]
#   BUILD_DIR defaults to build-sm90; it is built here when it has no test binaries.
#   Shared libraries that the machine lacks may be placed in BUILD_DIR/lib (added to LD_LIBRARY_PATH);
#   scripts/gpu_bundle.sh packs a build made elsewhere that way, in two transfers of < 64 MiB.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=${1:?usage: scripts/gpu_check.sh LOG_DIR [BUILD_DIR]}
BUILD_DIR=${2:-build-sm90}
DEADLINE=$(($(date +%s) + ${JM_GPU_CHECK_SECONDS:-480}))
mkdir -p "$LOG_DIR"
# Libraries carried with a build (scripts/gpu_bundle.sh) first, then the CUDA toolkit's.
export LD_LIBRARY_PATH="$PWD/$BUILD_DIR/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
: >"$LOG_DIR/skipped.log"

# bounded SECONDS LOG COMMAND...: runs COMMAND with stdout+stderr to LOG, for at most SECONDS and
# never past the deadline. Returns the command's status (124 on timeout, 125 when skipped).
bounded() {
  local limit=$1 log=$2
  shift 2
  local left=$((DEADLINE - $(date +%s)))
  ((left < limit)) && limit=$left
  if ((limit < 10)); then
    echo "$*" >>"$LOG_DIR/skipped.log"
    return 125
  fi
  timeout "$limit" "$@" >"$log" 2>&1
}

{
  date -u; nvidia-smi || true; nvcc --version || true
} >"$LOG_DIR/machine.log" 2>&1

if [ ! -x "$BUILD_DIR/tests/test_journeys" ]; then
  JM_BUILD_DIR="$BUILD_DIR" bounded 300 "$LOG_DIR/build.log" scripts/build.sh -DCMAKE_CUDA_ARCHITECTURES=90 ||
    { echo "build failed or ran out of time: see $LOG_DIR/build.log"; tail -30 "$LOG_DIR/build.log"; exit 1; }
fi
"$BUILD_DIR/journeymap" --version >"$LOG_DIR/version.log" 2>&1

status=0
# GPU tests: every test binary (GPU instantiations compare themselves with the CPU twin), several
# at once; a binary's log holds its failures.
export LOG_DIR
ls "$BUILD_DIR"/tests/test_* | xargs -P 8 -I{} sh -c \
  'timeout 240 {} --gtest_brief=1 >"$LOG_DIR/$(basename {}).log" 2>&1 || echo "FAILED: $(basename {})"' \
  | tee "$LOG_DIR/tests_failed.log"
[ -s "$LOG_DIR/tests_failed.log" ] && status=1
grep -h -E "^\[  (PASSED|FAILED|SKIPPED) " "$LOG_DIR"/test_*.log | sort | uniq -c >"$LOG_DIR/tests_summary.log"
grep -h -B1 -A8 "^\[  FAILED  \]" "$LOG_DIR"/test_*.log >"$LOG_DIR/tests_failures.log" || true

# The issue goal first: the whole pipeline per stage on the GPU at 10M journeys (~110M events;
# target: under 10 s of GPU wall time without CSV parsing), then 1M; device peak memory included.
bounded 240 "$LOG_DIR/bench_pipeline_gpu.log" "$BUILD_DIR/journeymap" bench --journeys 10000000 --journeys 1000000 \
  --device gpu --out "$LOG_DIR/bench_pipeline_gpu.json" || { status=1; echo "FAILED: journeymap bench (gpu)"; }
# The public datasets through the GPU pipeline (small: minutes of CPU, seconds here).
datasets=bench/datasets
[ -d "$BUILD_DIR/bench/datasets" ] && datasets="$BUILD_DIR/bench/datasets"
bounded 60 "$LOG_DIR/bench_public_gpu.log" "$BUILD_DIR/journeymap" bench --case "$datasets"/*.toml \
  --device gpu --out "$LOG_DIR/bench_public_gpu.json" || echo "journeymap bench (public datasets) exited $?"

# Journey building at 1M/10M/100M events, GPU beside CPU, then the GPU rows of every stage's
# benchmark, each bounded.
JM_BENCH_LARGE=1 bounded 90 "$LOG_DIR/bench_journeys.log" "$BUILD_DIR/bench/bench_journeys" --benchmark_min_time=0.1 \
  --benchmark_out="$LOG_DIR/bench_journeys.json" --benchmark_out_format=json || echo "bench_journeys exited $?"
for bench in bench_features bench_segments bench_flows bench_anomalies bench_patterns bench_model; do
  [ -x "$BUILD_DIR/bench/$bench" ] || continue
  bounded 45 "$LOG_DIR/$bench.log" "$BUILD_DIR/bench/$bench" --benchmark_min_time=0.05 \
    --benchmark_filter='[Gg]pu|GPU|cuda' --benchmark_out="$LOG_DIR/$bench.json" --benchmark_out_format=json ||
    echo "bench $bench exited $?"
done
cat "$LOG_DIR/tests_summary.log"
grep -E "journeys|written" "$LOG_DIR/bench_pipeline_gpu.log" || true
[ -s "$LOG_DIR/skipped.log" ] && { echo "skipped for time:"; cat "$LOG_DIR/skipped.log"; }
exit $status
