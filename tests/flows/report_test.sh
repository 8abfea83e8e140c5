#!/bin/sh
# Runs report_test.py with the project's Python; exits 77 (CTest: skipped) when that Python, its
# h5py/plotly, or Debian's chromium is missing.
here=$(cd "$(dirname "$0")" && pwd)
python="$here/../../.venv/bin/python"
if [ ! -x "$python" ] || ! "$python" -c "import h5py, plotly" 2>/dev/null; then
  echo "SKIP: the project's .venv with h5py and plotly is missing (scripts/setup.sh)"; exit 77
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "SKIP: chromium is not installed (apt-get install chromium)"; exit 77
fi
exec "$python" "$here/report_test.py" "$@"
