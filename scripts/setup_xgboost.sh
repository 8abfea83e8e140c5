#!/usr/bin/env bash
# Installs XGBoost 3.4.1 for the model module into .venv/xgboost/{include,lib}:
#   lib/libxgboost.so (+ lib/xgboost.libs/) from the official Linux x86_64 wheel (the CUDA 13 build;
#     it also trains on the CPU and runs on machines without a GPU),
#   include/xgboost/c_api.h (+ the headers it includes) from the same version's source archive.
# The wheel requires Python >= 3.12, so it is downloaded for that interpreter rather than installed.
# Idempotent: does nothing when both parts are present; downloads reuse pip's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VERSION=3.4.1
PREFIX="$ROOT/.venv/xgboost"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

if [ -f "$PREFIX/include/xgboost/c_api.h" ] && [ -f "$PREFIX/lib/libxgboost.so" ] &&
   grep -qx "$VERSION" "$PREFIX/VERSION" 2>/dev/null; then
  echo "[setup_xgboost] XGBoost $VERSION already in $PREFIX"
  exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$PREFIX/include" "$PREFIX/lib"

echo "[setup_xgboost] downloading the xgboost==$VERSION wheel (manylinux_2_28_x86_64, ~58 MB)"
"$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.12 --platform manylinux_2_28_x86_64 -d "$WORK/wheel" "xgboost==$VERSION"
echo "[setup_xgboost] unpacking libxgboost.so into $PREFIX/lib"
"$PYTHON" - "$WORK/wheel" "$PREFIX/lib" <<'PY'
import glob, os, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "xgboost-*.whl"))[0]
dest = sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name == "xgboost/lib/libxgboost.so":
            target = os.path.join(dest, "libxgboost.so")
        elif name.startswith("xgboost.libs/") and not name.endswith("/"):
            target = os.path.join(dest, name)
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
        print("  ", os.path.relpath(target, os.path.dirname(dest)))
# The wheel's libxgboost.so finds its bundled libgomp through DT_RPATH "$ORIGIN/../../xgboost.libs"
# (the site-packages layout). Here xgboost.libs/ sits beside it: shorten the string in place
# (same edit patchelf makes for a shorter path; the string table keeps its size).
lib = os.path.join(dest, "libxgboost.so")
data = bytearray(open(lib, "rb").read())
old, new = b"$ORIGIN/../../xgboost.libs\0", b"$ORIGIN/xgboost.libs\0"
if data.count(old) == 1:
    at = data.index(old)
    data[at:at + len(old)] = new + b"\0" * (len(old) - len(new))
    open(lib, "wb").write(data)
    print("   RPATH of libxgboost.so set to $ORIGIN/xgboost.libs")
elif data.count(new) != 1:
    sys.exit("unexpected RPATH in libxgboost.so; cannot relocate it")
PY
# Its SONAME is libxgboost.so.3: executables linked against it look for that name.
ln -sf libxgboost.so "$PREFIX/lib/libxgboost.so.3"

echo "[setup_xgboost] downloading the xgboost==$VERSION source archive (~1.2 MB) for the C header"
# --python-version: the sdist also declares Requires-Python >= 3.12 (pip prepares its metadata in an
# isolated build environment; nothing is built or installed).
"$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --no-binary=:all: --python-version 3.12 \
  -d "$WORK/sdist" "xgboost==$VERSION"
tar -xzf "$WORK/sdist/xgboost-$VERSION.tar.gz" -C "$WORK"
rm -rf "$PREFIX/include/xgboost"
cp -r "$WORK/xgboost-$VERSION/cpp_src/include/xgboost" "$PREFIX/include/xgboost"
echo "[setup_xgboost] installed headers into $PREFIX/include/xgboost"
echo "$VERSION" > "$PREFIX/VERSION"
echo "[setup_xgboost] done: XGBoost $VERSION in $PREFIX (reconfigure CMake to pick it up)"
