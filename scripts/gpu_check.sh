#!/usr/bin/env bash
# The one prepared GPU run: on a machine with an NVIDIA GPU, build for sm_90 (unless a build is
# given), check that every binary finds its libraries, run the GPU tests, then the end-to-end benchmark at 1M and 10M journeys, then the
# per-stage GPU benchmarks; every log goes under LOG_DIR. The whole run keeps to a time budget
# (JM_GPU_CHECK_SECONDS, default 480): each step gets what is left, and steps that no longer fit
# are skipped and named in LOG_DIR/skipped.log, so the most valuable results come first. LOG_DIR ends
# with summary.txt (one page) and gpu_check.tar.gz (every log and benchmark JSON).
# A rerun that has less time can narrow it: JM_GPU_CHECK_TESTS (an extended regular expression on the
# test binaries' names; default all) and JM_GPU_CHECK_PIPELINE_ONLY=1 (skip the public datasets and
# the per-stage benchmarks after the pipeline benchmark).
# Usage: scripts/gpu_check.sh LOG_DIR [BUILD_DIR]
#   BUILD_DIR defaults to build-sm90; it is built here when it has no test binaries.
#   Shared libraries that the machine lacks may be placed in BUILD_DIR/lib (added to LD_LIBRARY_PATH);
#   scripts/gpu_bundle.sh packs a build made elsewhere that way, in two transfers of < 64 MiB.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG_DIR=${1:?usage: scripts/gpu_check.sh LOG_DIR [BUILD_DIR]}
BUILD_DIR=${2:-build-sm90}
DEADLINE=$(($(date +%s) + ${JM_GPU_CHECK_SECONDS:-480}))
mkdir -p "$LOG_DIR" "$BUILD_DIR"
# Absolute paths: the library path and JM_CLI must work whether the arguments were relative or not.
LOG_DIR=$(cd "$LOG_DIR" && pwd)
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
# Libraries carried with a build (scripts/gpu_bundle.sh) first, then the CUDA toolkit's.
export LD_LIBRARY_PATH="$BUILD_DIR/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
# The CLI tests run this binary, not the build machine's path compiled into them, and every test
# writes under the build folder given here.
export JM_CLI="$BUILD_DIR/journeymap"
export JM_TEST_OUTPUT_DIR="$BUILD_DIR/test-output"
# The public datasets: ../shared/data where it exists, else the copy a bundle carries.
if [ ! -d ../shared/data ] && [ -d "$BUILD_DIR/shared-data" ]; then
  export JM_SHARED_DATA_DIR="$BUILD_DIR/shared-data"
fi
mkdir -p "$JM_TEST_OUTPUT_DIR"
: >"$LOG_DIR/skipped.log"

# Everything the run leaves goes back as one archive with a one-page summary first.
pack_logs() {
  {
    echo "journeymap gpu_check $(date -u +%FT%TZ)"
    head -3 "$LOG_DIR/machine.log" 2>/dev/null
    [ -s "$LOG_DIR/missing_libraries.log" ] && { echo "MISSING LIBRARIES:"; cat "$LOG_DIR/missing_libraries.log"; }
    echo "tests:"; cat "$LOG_DIR/tests_summary.log" 2>/dev/null
    [ -s "$LOG_DIR/tests_failed.log" ] && { echo "failed binaries:"; cat "$LOG_DIR/tests_failed.log"; }
    echo "pipeline benchmark:"; grep -v "^written" "$LOG_DIR/bench_pipeline_gpu.log" 2>/dev/null | head -60
    [ -s "$LOG_DIR/bench_batched_gpu.log" ] &&
      { echo "run in batches on the GPU:"; grep -v "^written" "$LOG_DIR/bench_batched_gpu.log" | head -30; }
    [ -s "$LOG_DIR/across/two.log" ] &&
      { echo "mpirun -np 2 on the GPU:"; grep -E "stage timings|error" "$LOG_DIR/across/two.log" | head -5; }
    [ -s "$LOG_DIR/mine_msnbc.log" ] && { echo "PrefixSpan on MSNBC, GPU then CPU:"; cat "$LOG_DIR/mine_msnbc.log"; }
    [ -s "$LOG_DIR/skipped.log" ] && { echo "skipped for time:"; cat "$LOG_DIR/skipped.log"; }
  } >"$LOG_DIR/summary.txt" 2>&1
  tar -C "$LOG_DIR" -czf "$LOG_DIR/gpu_check.tar.gz" --exclude=gpu_check.tar.gz . 2>/dev/null || true
}
trap pack_logs EXIT

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
# First: every binary must find its shared libraries here; stop with the list when one does not.
test_binaries=$(find "$BUILD_DIR/tests" -maxdepth 1 -type f -name 'test_*' -perm -u+x ! -name '*.cmake' | sort |
  grep -E "/(${JM_GPU_CHECK_TESTS:-.*})\$")
bench_binaries=$(find "$BUILD_DIR/bench" -maxdepth 1 -type f -name 'bench_*' -perm -u+x 2>/dev/null | sort)
for binary in "$BUILD_DIR/journeymap" $test_binaries $bench_binaries; do
  ldd "$binary" 2>&1 | awk -v b="$(basename "$binary")" '/not found/ {print b ": " $1}'
done | sort -u >"$LOG_DIR/missing_libraries.log"
if [ -s "$LOG_DIR/missing_libraries.log" ]; then
  echo "gpu_check: shared libraries missing on this machine (carry them in $BUILD_DIR/lib):"
  cut -d' ' -f2 "$LOG_DIR/missing_libraries.log" | sort -u
  exit 1
fi
"$BUILD_DIR/journeymap" --version >"$LOG_DIR/version.log" 2>&1
# The libraries opened on first use (OpenBLAS, XGBoost, the Parquet module, cuBLAS) must load too.
if ! "$BUILD_DIR/journeymap" --libraries >"$LOG_DIR/libraries.log" 2>&1; then
  echo "gpu_check: a library journeymap opens on first use cannot be loaded:"
  grep "NOT LOADED" "$LOG_DIR/libraries.log"
  exit 1
fi

status=0
# GPU tests: every test binary (GPU instantiations compare themselves with the CPU twin), several
# at once, inside the time budget; a binary's log holds its failures.
export LOG_DIR
tests_left=$((DEADLINE - $(date +%s) - 200))  # keep 200 s for the 10M-journey benchmark
((tests_left > 240)) && tests_left=240
((tests_left < 30)) && tests_left=30
# Eight processes share the device: each reserves a 2 GiB pool at first (growing on demand) instead
# of 1/8 of what is free when it starts.
echo "$test_binaries" | JM_GPU_POOL_MB=2048 xargs -P 8 -I{} sh -c \
  "timeout $tests_left {} --gtest_brief=1 >\"\$LOG_DIR/\$(basename {}).log\" 2>&1; code=\$?; [ \$code = 124 ] && echo \"TIMEOUT: \$(basename {})\"; [ \$code != 0 ] && [ \$code != 124 ] && echo \"FAILED: \$(basename {})\"; true" \
  | tee "$LOG_DIR/tests_failed.log"
[ -s "$LOG_DIR/tests_failed.log" ] && status=1
# Totals over every binary (gtest's own summary lines: "[  PASSED  ] 12 tests.", ...).
grep -h -E "^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?[,.]" "$LOG_DIR"/test_*.log |
  awk '{ total[$2] += $4 } END { printf "%d passed, %d skipped, %d failed (in %d binaries)\n", total["PASSED"],
        total["SKIPPED"], total["FAILED"], binaries }' binaries="$(echo "$test_binaries" | wc -l)" \
  >"$LOG_DIR/tests_summary.log"
grep -h -B1 -A8 "^\[  FAILED  \]" "$LOG_DIR"/test_*.log >"$LOG_DIR/tests_failures.log" || true

# The issue goal first: the whole pipeline per stage on the GPU at 10M journeys (~110M events;
# target: under 10 s of GPU wall time without CSV parsing), then 1M; device peak memory included.
bounded 240 "$LOG_DIR/bench_pipeline_gpu.log" "$BUILD_DIR/journeymap" bench --journeys 10000000 --journeys 1000000 \
  --device gpu --out "$LOG_DIR/bench_pipeline_gpu.json" || { status=1; echo "FAILED: journeymap bench (gpu)"; }
# A run in batches on the GPU (1M journeys, batches of about 2M events under a 1 GiB device budget):
# the streamed stages on the device for the first time, and its device peak per batch against
# kDeviceBytesPerBatchEvent's estimate.
printf '[run]\nhost_memory_budget = "4GiB"\ndevice_memory_budget = "1GiB"\n' >"$LOG_DIR/batched.toml"
bounded 90 "$LOG_DIR/bench_batched_gpu.log" "$BUILD_DIR/journeymap" bench --journeys 1000000 --device gpu \
  --config "$LOG_DIR/batched.toml" --out "$LOG_DIR/bench_batched_gpu.json" || echo "FAILED: journeymap bench in batches (gpu)"
# Across processes on the one GPU: `mpirun -np 2 journeymap run` with both processes on device 0,
# beside one process on the same file; `journeymap info` of each result goes to the logs (the
# counts must agree). Skipped where the machine has no mpirun (a bundle carries libmpi, not mpirun).
if command -v mpirun >/dev/null 2>&1; then
  across="$LOG_DIR/across"
  mkdir -p "$across"
  if bounded 20 "$across/generate.log" "$BUILD_DIR/journeymap" generate --journeys 200000 --seed 21 \
    --out "$across/events.csv"; then
    bounded 60 "$across/one.log" "$BUILD_DIR/journeymap" run \
      --input "$across/events.csv" --device gpu --out "$across/one.h5" || echo "FAILED: run on one process (gpu)"
    JM_GPU_POOL_MB=2048 bounded 90 "$across/two.log" mpirun --oversubscribe --allow-run-as-root -np 2 \
      "$BUILD_DIR/journeymap" run --input "$across/events.csv" --device gpu \
      --out "$across/two.h5" || echo "FAILED: mpirun -np 2 journeymap run (gpu)"
    for result in one two; do
      [ -f "$across/$result.h5" ] && "$BUILD_DIR/journeymap" info "$across/$result.h5" >"$across/info_$result.log" 2>&1
    done
    rm -f "$across"/*.h5 "$across"/events*  # the logs come back, not the data
  fi
else
  echo "mpirun -np 2 on the GPU: no mpirun on this machine" >>"$LOG_DIR/skipped.log"
fi
if [ "${JM_GPU_CHECK_PIPELINE_ONLY:-0}" = 1 ]; then
  echo "public datasets and per-stage benchmarks (JM_GPU_CHECK_PIPELINE_ONLY=1)" >>"$LOG_DIR/skipped.log"
  pack_logs
  cat "$LOG_DIR/summary.txt"
  exit $status
fi
# The public datasets through the GPU pipeline (small: minutes of CPU, seconds here).
datasets=bench/datasets
[ -d "$BUILD_DIR/bench/datasets" ] && datasets="$BUILD_DIR/bench/datasets"
if [ -n "${JM_SHARED_DATA_DIR:-}" ]; then
  # The cases name ../shared/data; point them at the bundle's copy.
  mkdir -p "$LOG_DIR/cases"
  for case_file in "$datasets"/*.toml; do
    sed "s#\.\./shared/data#$JM_SHARED_DATA_DIR#g" "$case_file" >"$LOG_DIR/cases/$(basename "$case_file")"
  done
  datasets="$LOG_DIR/cases"
fi
bounded 60 "$LOG_DIR/bench_public_gpu.log" "$BUILD_DIR/journeymap" bench --case "$datasets"/*.toml \
  --device gpu --out "$LOG_DIR/bench_public_gpu.json" || echo "journeymap bench (public datasets) exited $?"

# PrefixSpan on full MSNBC, GPU beside CPU (all cores), at the SPMF comparison's two supports: the
# GPU miner's first timing on a public case (docs/benchmarks.md, "PrefixSpan against SPMF").
msnbc="${JM_SHARED_DATA_DIR:-../shared/data}/msnbc/MSNBC.txt"
if [ -f "$msnbc" ]; then
  for support in 990 49491; do
    for device in gpu cpu; do
      bounded 30 "$LOG_DIR/mine_msnbc_${support}_$device.log" "$BUILD_DIR/journeymap" mine --input "$msnbc" \
        --format spmf --min-support "$support" --device "$device" --out "$LOG_DIR/mine_msnbc.h5" ||
        echo "mine msnbc @ $support on the $device exited $?"
      grep -h "^mined" "$LOG_DIR/mine_msnbc_${support}_$device.log" >>"$LOG_DIR/mine_msnbc.log" 2>/dev/null
    done
  done
  rm -f "$LOG_DIR/mine_msnbc.h5"
fi

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
pack_logs
cat "$LOG_DIR/summary.txt"
echo "all logs: $LOG_DIR/gpu_check.tar.gz"
exit $status
