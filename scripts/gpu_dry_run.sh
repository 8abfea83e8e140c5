#!/usr/bin/env bash
# Tries a GPU bundle (scripts/gpu_bundle.sh) on this machine as the GPU machine will see it: both
# archives unpacked into a fresh folder and run from an empty environment whose library path holds
# only the bundle's lib/ and the CUDA toolkit's. Checks that
#   1. every binary resolves every library from the bundle, the CUDA toolkit or the C library,
#   2. every binary starts (journeymap --version, test and benchmark listings), and journeymap opens
#      every library it loads on first use (--libraries),
#   3. the GPU tests of every test binary skip cleanly (or pass, where a GPU is present).
# Exits non-zero with the list of problems otherwise.
# Usage: scripts/gpu_dry_run.sh [BUNDLE]   (default: gpu-bundle)
set -uo pipefail
cd "$(dirname "$0")/.."
BUNDLE=$(cd "${1:-gpu-bundle}" && pwd) || exit 1
[ -f "$BUNDLE/core.tar.xz" ] || { echo "gpu_dry_run: $BUNDLE/core.tar.xz not found; run scripts/gpu_bundle.sh" >&2; exit 1; }
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
mkdir -p "$B/lib" "$B/test-output"
[ -f "$BUNDLE/xgboost.tar.xz" ] && tar -xJf "$BUNDLE/xgboost.tar.xz" -C "$B/lib"
tar -xJf "$BUNDLE/core.tar.xz" -C "$B"

# The environment a bare GPU machine gives: nothing of this machine's but the C library and CUDA.
in_clean_env() {
  env -i PATH=/usr/bin:/bin HOME="$B" LD_LIBRARY_PATH="$B/lib:/usr/local/cuda/lib64" \
    JM_TEST_OUTPUT_DIR="$B/test-output" JM_CLI="$B/journeymap" "$@"
}

mapfile -t tests < <(find "$B/tests" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort)
mapfile -t benches < <(find "$B/bench" -maxdepth 1 -type f -name 'bench_*' -perm -u+x | sort)
problems=()

# 1. Where each library comes from.
for binary in "$B/journeymap" "${tests[@]}" "${benches[@]}"; do
  while read -r name arrow path _; do
    case "$name" in linux-vdso.so*|/lib64/ld-linux*|libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*) continue ;; esac
    [ "$arrow" = "=>" ] || continue
    case "$path" in
      "$B"/*|/usr/local/cuda*) ;;
      not) problems+=("$(basename "$binary"): $name not found") ;;
      *) problems+=("$(basename "$binary"): $name from $path, outside the bundle") ;;
    esac
  done < <(in_clean_env ldd "$binary")
done

# 2. Every binary starts.
in_clean_env "$B/journeymap" --version >"$B/version.log" 2>&1 || problems+=("journeymap --version: $(tail -1 "$B/version.log")")
in_clean_env "$B/journeymap" --libraries >"$B/libraries.log" 2>&1 ||
  problems+=("journeymap --libraries: $(grep -m1 'NOT LOADED' "$B/libraries.log")")
while IFS= read -r line; do
  case "$line" in *": $B"/*|*": /usr/local/cuda"*) ;; *) problems+=("opened outside the bundle: $line") ;; esac
done < <(grep -E '^(OpenBLAS|XGBoost|Parquet writer|cuBLAS): ' "$B/libraries.log")
for binary in "${tests[@]}"; do
  in_clean_env "$binary" --gtest_list_tests >/dev/null 2>&1 || problems+=("$(basename "$binary") does not start")
done
for binary in "${benches[@]}"; do
  in_clean_env "$binary" --benchmark_list_tests >/dev/null 2>&1 || problems+=("$(basename "$binary") does not start")
done

# 3. The GPU tests: skipped without a device, never failed.
gpu_filter='*Gpu*:*gpu*:*GPU*:*Cuda*:*cuda*'
passed=0 skipped=0
for binary in "${tests[@]}"; do
  log="$B/$(basename "$binary").log"
  in_clean_env "$binary" --gtest_filter="$gpu_filter" --gtest_brief=1 >"$log" 2>&1 ||
    problems+=("$(basename "$binary"): GPU tests failed: $(grep -m1 -E 'FAILED|Failure|error' "$log")")
  passed=$((passed + $(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\./\1/p' "$log" | tail -1 | grep . || echo 0)))
  skipped=$((skipped + $(sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?[.,].*/\1/p' "$log" | tail -1 | grep . || echo 0)))
done

echo "gpu_dry_run: $(head -1 "$B/version.log"); ${#tests[@]} test and ${#benches[@]} benchmark binaries"
sed -n 's/^/  /p' "$B/version.log" | grep -E "CUDA|GPU devices"
echo "  GPU tests: $passed passed, $skipped skipped"
if ((${#problems[@]} > 0)); then
  echo "gpu_dry_run: ${#problems[@]} problems:"
  printf '  %s\n' "${problems[@]}"
  exit 1
fi
echo "gpu_dry_run: every binary found its libraries in the bundle or CUDA, started, and its GPU tests did not fail"
