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
  libhdf5-dev hdf5-tools
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev
  python3-venv
)
# Pinned PyPI packages. cmake>=3.30.4 is required by the RAFT/RMM 26.06 CMake configs;
# RAFT 26.06 is the last release that builds as C++17 (see docs/architecture.md).
PIP_PACKAGES=(
  "cmake==3.31.10"
  "ninja==1.13.2"
  "librmm-cu13==26.6.0"
  "libraft-cu13==26.6.0"
  "rapids-logger==0.2.3"
  "numpy==2.2.6"
  "h5py==3.14.0"
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
installed=$("$VENV/bin/python" -m pip freeze 2>/dev/null | tr 'A-Z_' 'a-z-')
want=()
for spec in "${PIP_PACKAGES[@]}"; do
  norm=$(echo "$spec" | tr 'A-Z_' 'a-z-')
  if ! grep -qx "$norm" <<<"$installed"; then want+=("$spec"); fi
done
if [ ${#want[@]} -gt 0 ]; then
  echo "[setup] pip: installing ${want[*]}"
  # --no-deps: the RAPIDS wheels would otherwise pull a second CUDA toolkit from PyPI; the
  # system CUDA toolkit provides cuBLAS and friends, and every pin above is explicit.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "${want[@]}"
else
  echo "[setup] pip: all ${#PIP_PACKAGES[@]} packages already present"
fi
echo "[setup] done"
