#!/bin/sh
# Runs export_test.py with the project's Python; exits 77 (CTest: skipped) when that Python or its
# pandas, pyarrow, DuckDB or h5py is missing, or when this build has no Parquet export.
here=$(cd "$(dirname "$0")" && pwd)
python="$here/../../.venv/bin/python"
if [ ! -x "$python" ] || ! "$python" -c "import pandas, pyarrow, duckdb, h5py" 2>/dev/null; then
  echo "SKIP: the project's .venv with pandas, pyarrow, duckdb and h5py is missing (scripts/setup.sh)"; exit 77
fi
# --journeymap BIN is the first argument pair (tests/CMakeLists.txt).
if [ "$1" = "--journeymap" ] && ! "$2" --version | grep -q "Parquet export: Apache Arrow"; then
  echo "SKIP: this journeymap was built without Apache Arrow (no Parquet export)"; exit 77
fi
exec "$python" "$here/export_test.py" "$@"
