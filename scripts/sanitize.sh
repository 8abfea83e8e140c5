#!/usr/bin/env bash
# Builds the CPU code with AddressSanitizer + UndefinedBehaviorSanitizer (Clang, no CUDA) into
# build-sanitize/, runs the unit tests under them, then runs each libFuzzer target for a bounded time
# on its corpus (tests/fuzz/corpus/<target>, grown in the build folder, never in the source tree)
# with a fixed seed and number of runs.
# Any sanitizer report, failed test or fuzzer crash fails the script.
# Environment: JM_SANITIZE_BUILD_DIR (default build-sanitize), JM_JOBS (default: cores),
#              JM_FUZZ_SECONDS (cap per target, default 60), JM_SANITIZE_TESTS (ctest -R regex, default: all
#              but the slow benchmark-style suites listed below).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${JM_SANITIZE_BUILD_DIR:-build-sanitize}
JOBS=${JM_JOBS:-$(nproc)}
FUZZ_SECONDS=${JM_FUZZ_SECONDS:-60}
mkdir -p "$BUILD_DIR"

# -O1 and line tables only: sanitizer builds are slow to compile, and stacks still name file:line.
# No Arrow: its C++20 headers and uninstrumented library add nothing to check here (Parquet export
# is then refused, and its test skips); the CSV export is checked.
.venv/bin/cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_MAKE_PROGRAM="$PWD/.venv/bin/ninja" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_SANITIZE="-O1 -gline-tables-only" \
  -DJM_WITH_CUDA=OFF -DJM_WITH_MPI=OFF -DJM_WITH_ARROW=OFF -DJM_SANITIZE=ON -DJM_BUILD_FUZZERS=ON -DJM_BUILD_TESTS=ON -DJM_BUILD_BENCH=OFF \
  >"$BUILD_DIR.configure.log" 2>&1 || { cat "$BUILD_DIR.configure.log"; exit 1; }
.venv/bin/cmake --build "$BUILD_DIR" -j "$JOBS"

# halt_on_error: the first report fails the test. Leak checking stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}
# Left out: the real-log model benchmark (minutes under the sanitizers, same code as the model unit
# tests) and the two tests that mostly run Python and Chromium (peer comparison, report render).
EXCLUDE='^(ModelBpic2012|flows_report_chromium|peers_agree)'
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 1200 \
  ${JM_SANITIZE_TESTS:+-R "$JM_SANITIZE_TESTS"} -E "$EXCLUDE")

# Fuzzing: each target from its seed corpus with a fixed seed and a fixed number of runs, so a CI
# run repeats the exploration checked before it landed (a new finding shows up when the code or the
# corpus changes, not by chance); FUZZ_SECONDS caps each target on a slow machine. New inputs go to
# the build folder. For open-ended fuzzing, run a target by hand without -runs and -seed.
declare -A RUNS=([csv_reader]=5000 [spmf_reader]=2500 [timestamp]=2000000 [config]=200000 [result_file]=100000)
for target in csv_reader spmf_reader timestamp config result_file; do
  corpus="$BUILD_DIR/fuzz-corpus/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$BUILD_DIR/fuzz-artifacts"
  max_len=65536
  [ "$target" = result_file ] && max_len=262144  # the seed result files are up to 190 KB
  echo "[sanitize] fuzzing $target: ${RUNS[$target]} runs, at most ${FUZZ_SECONDS}s"
  "$BUILD_DIR/tests/fuzz_$target" "$corpus" "tests/fuzz/corpus/$target" -seed=1 -runs="${RUNS[$target]}" \
    -max_total_time="$FUZZ_SECONDS" -max_len="$max_len" -rss_limit_mb=2048 -timeout=20 \
    -artifact_prefix="$BUILD_DIR/fuzz-artifacts/${target}-" -print_final_stats=1 2>"$BUILD_DIR/fuzz-$target.log" || {
    tail -60 "$BUILD_DIR/fuzz-$target.log"; echo "[sanitize] fuzz_$target failed; the input is in $BUILD_DIR/fuzz-artifacts"; exit 1; }
  grep -E "stat::number_of_executed_units|cov:" "$BUILD_DIR/fuzz-$target.log" | tail -2
done
echo "[sanitize] all sanitizer tests and fuzzers passed"
