#!/usr/bin/env bash
# Installs whatever is missing (Debian/Ubuntu), builds the app in release mode and opens its window.
# Extra arguments go to the app, e.g. `scripts/run.sh --data-dir /tmp/cn` or `scripts/run.sh doctor`.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
step "system packages";  ensure_packages "${APP_PACKAGES[@]}"
step "toolchains";       ensure_toolchains
step "UI dependencies";  ensure_ui_deps
step "UI build";         build_ui
step "app build";        cargo build --release --manifest-path "$ROOT/Cargo.toml" --bin complexitynet
step "launch"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/release/complexitynet" "$@"
