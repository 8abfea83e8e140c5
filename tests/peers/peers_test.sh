#!/bin/sh
# Runs peers_test.py with the project's Python; exits 77 (CTest: skipped) when that Python is
# missing (peers_test.py itself exits 77 when one of the peer packages is).
here=$(cd "$(dirname "$0")" && pwd)
python="$here/../../.venv/bin/python"
if [ ! -x "$python" ]; then
  echo "SKIP: the project's .venv is missing (scripts/setup.sh)"; exit 77
fi
exec "$python" "$here/peers_test.py" "$@"
