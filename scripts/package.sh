#!/usr/bin/env bash
# Builds the release app and its Linux packages with Tauri's bundler (the CLI pinned in ui/package.json, from
# npm): a .deb, and an .rpm too when rpmbuild is present. Needs nothing beyond the package registries. Prints the
# path of each package built, one per line, on stdout (progress goes to stderr).
#   bash scripts/package.sh            # then: sudo apt install ./<printed path>.deb
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
step "system packages";  ensure_packages "${APP_PACKAGES[@]}"
step "toolchains";       ensure_toolchains
step "UI dependencies";  ensure_ui_deps >&2
step "UI build";         build_ui
bundles=deb
command -v rpmbuild >/dev/null && bundles=deb,rpm
step "release build and bundles ($bundles)"
# The bundler builds with `cargo build --release --features tauri/custom-protocol` (the production mode: the page
# comes from the binary, not a dev server) and writes under $CARGO_TARGET_DIR/release/bundle/.
ui/node_modules/.bin/tauri build --ci --bundles "$bundles" >&2
target=${CARGO_TARGET_DIR:-$ROOT/target}
version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
step "done"
ls -1 "$target"/release/bundle/deb/*_"$version"_*.deb
if [[ $bundles == *rpm* ]]; then ls -1 "$target"/release/bundle/rpm/*-"$version"-*.rpm; fi
