# shellcheck shell=bash
# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is missing on Debian/Ubuntu, once.
# Sourced, not run. Everything here is idempotent and fast when nothing is missing.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${COMPLEXITYNET_CACHE:-$HOME/.cache/complexitynet-dev}
export PATH="$HOME/.cargo/bin:$PATH"

step_start=$SECONDS
step() { # prints how long the previous step took, then names the next one
  local now=$SECONDS
  [ -n "${STEP_NAME:-}" ] && printf '==> %s: %ss\n' "$STEP_NAME" "$((now - step_start))" >&2
  STEP_NAME=$1
  step_start=$now
  printf '==> %s\n' "$1" >&2
}

# Steps that need neither the Rust build nor one another (downloads, the UI's checks) run beside the steps that
# follow, each with its output in a log: on a fresh two-core machine they were minutes of waiting on the network
# before the first crate compiled. `background NAME CMD...` starts one; `await_background` waits for all of them,
# prints their output, and fails showing the log of each that failed.
BG_PIDS=() BG_NAMES=() BG_LOGS=()
background() {
  local name=$1 log
  shift
  log=$(mktemp "${TMPDIR:-/tmp}/complexitynet-step.XXXXXX")
  printf '==> %s (in the background)\n' "$name" >&2
  (
    set -e
    start=$SECONDS
    "$@"
    printf '==> %s: %ss (in the background)\n' "$name" "$((SECONDS - start))"
  ) >"$log" 2>&1 &
  BG_PIDS+=("$!") BG_NAMES+=("$name") BG_LOGS+=("$log")
}
await_background() {
  local i failed=0
  for i in "${!BG_PIDS[@]}"; do
    if wait "${BG_PIDS[$i]}"; then
      cat "${BG_LOGS[$i]}" >&2
    else
      echo "error: ${BG_NAMES[$i]} failed:" >&2
      cat "${BG_LOGS[$i]}" >&2
      failed=1
    fi
    rm -f "${BG_LOGS[$i]}"
  done
  BG_PIDS=() BG_NAMES=() BG_LOGS=()
  return "$failed"
}
# A script that stops early (a failed build) stops what it started in the background too.
stop_background() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  rm -f "${BG_LOGS[@]}"
}
trap stop_background EXIT

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the WebKitGTK stack Tauri links against, cmake + clang to build llama.cpp, ccache to build
# it once (optional: see native_build_cache), bubblewrap + Python
# for the verification sandbox (pip fetches the small default model), plus what the tests drive the window with.
APP_PACKAGES=(build-essential pkg-config file curl cmake clang libclang-dev libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev
  libxdo-dev bubblewrap python3 python3-pip unzip ccache)
TEST_PACKAGES=(xvfb webkit2gtk-driver python3-venv gnome-keyring libsecret-tools dbus-daemon keyutils openssl
  wine64 gcc-mingw-w64-x86-64)

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  # pyenv/uv Pythons carry their own venv module; only Debian's python3 needs python3-venv.
  if [[ " ${missing[*]} " == *" python3-venv "* ]] && python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing=("${missing[@]/python3-venv}")
  fi
  missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_toolchains() {
  if ! command -v cargo >/dev/null; then
    echo "error: Rust is not installed. Install it with rustup (https://rustup.rs), then run this again." >&2
    exit 1
  fi
  native_build_cache
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then
    ensure_packages nodejs npm
    node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$node_major" -lt 20 ]; then
      echo "error: Node.js 20 or newer is needed to build the UI (found: $(node --version 2>/dev/null || echo none))." >&2
      exit 1
    fi
  fi
}

# The native code under the Rust crates (llama.cpp through CMake; SQLite and tree-sitter through the cc
# crate) is compiled through ccache when it is installed, so it is built once per machine, not once per target dir
# and profile: the release build of run.sh, the dev build of the tests and a clean clone's build share it (llama.cpp
# alone is about four minutes of a cold build on two cores; BENCHMARKS.md, build time). Set for the host triple
# only, so the Windows cross-builds keep their own compilers. CCACHE_BASEDIR makes the paths inside the target dir
# (llama.cpp's generated unity sources) relative, so that another target dir hits the same entries.
native_build_cache() {
  command -v ccache >/dev/null || return 0
  # The cc crate reads CC_<triple> with the triple's dashes as underscores (x86_64-unknown-linux-gnu on most
  # machines, aarch64-unknown-linux-gnu on ARM ones).
  local host
  host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p' | tr '-' '_')
  [ -n "$host" ] || return 0
  local cc_var=CC_$host cxx_var=CXX_$host
  [[ ${!cc_var:-} == ccache* ]] && return 0
  local target=${CARGO_TARGET_DIR:-$ROOT/target}
  mkdir -p "$target"
  CCACHE_BASEDIR=$(cd "$target" && pwd)
  export CCACHE_BASEDIR
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export "$cc_var=ccache ${CC:-cc}" "$cxx_var=ccache ${CXX:-c++}"
}

# The UI: npm ci when package-lock.json changed since the last install, then a production build into ui/dist,
# which the Rust build embeds.
ensure_ui_deps() {
  local stamp="$ROOT/ui/node_modules/.complexitynet-lock"
  if ! cmp -s "$ROOT/ui/package-lock.json" "$stamp" 2>/dev/null; then
    (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/ui/package-lock.json" "$stamp"
  fi
}

# Type-checks the UI and builds it (ui/package.json: `tsc --noEmit && vite build`); quiet unless it fails, when
# the compiler's messages (tsc prints them on stdout) are shown.
build_ui() {
  local out
  if ! out=$(cd "$ROOT/ui" && npm run --silent build 2>&1); then
    printf '%s\n' "$out" >&2
    echo "error: the UI did not build (cd ui && npm run build)" >&2
    return 1
  fi
}
