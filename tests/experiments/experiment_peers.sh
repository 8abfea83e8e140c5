#!/bin/sh
# Runs scripts/experiment_peers.py with the project's Python; exits 77 (CTest: skipped) when that
# Python is missing (the script itself exits 77 without statsmodels, scipy or h5py).
here=$(cd "$(dirname "$0")" && pwd)
python="$here/../../.venv/bin/python"
if [ ! -x "$python" ]; then echo "SKIP: the project's .venv is missing (scripts/setup.sh)"; exit 77; fi
exec "$python" "$here/../../scripts/experiment_peers.py" "$@"
