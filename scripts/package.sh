#!/usr/bin/env bash
# Builds the release app and its Linux packages with Tauri's bundler (the CLI pinned in ui/package.json, from
# npm): a .deb, and an .rpm too when rpmbuild is present. Needs nothing beyond the package registries. Prints the
# path of each package built, one per line, on stdout (progress goes to stderr).
#   bash scripts/package.sh            # then: sudo apt install ./<printed path>.deb
#   bash scripts/package.sh --debug    # the same packages around the dev build already made (what
#                                      # scripts/test.sh installs by default: the binary its tests built)
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$ROOT"
step "system packages";  ensure_packages "${APP_PACKAGES[@]}"
step "toolchains";       ensure_toolchains
step "UI dependencies";  ensure_ui_deps >&2
step "UI build";         build_ui
target=${CARGO_TARGET_DIR:-$ROOT/target}
bundles=deb
command -v rpmbuild >/dev/null && bundles=deb,rpm
if [ "${1:-}" = --debug ]; then
  profile=debug
  step "bundles of the dev build ($bundles)"
  # The dev build as the tests made it (`cargo test` builds the binary the e2e drives), bundled as it is: `tauri
  # build --debug` would build it again, because `cargo test` unifies the dev-dependencies' features into the crates
  # it shares with the app (measured: 115 s of rebuilt candle, classifier, core and app crates).
  [ -x "$target/debug/complexitynet" ] || { echo "error: no dev build at $target/debug/complexitynet: run cargo build first" >&2; exit 1; }
  # Left byte for byte as the tests ran it (no bundle-type patch: that is for the updater plugin, which is not used).
  ui/node_modules/.bin/tauri bundle --ci --debug --no-binary-patching --bundles "$bundles" >&2
else
  profile=release
  step "release build and bundles ($bundles)"
  # The bundler builds with `cargo build --release --features tauri/custom-protocol` (the production mode: the page
  # comes from the binary, not a dev server; Cargo.toml turns it on in every build, so this is the build run.sh
  # made) and writes under $CARGO_TARGET_DIR/release/bundle/.
  ui/node_modules/.bin/tauri build --ci --bundles "$bundles" >&2
fi
version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
step "done"
ls -1 "$target"/$profile/bundle/deb/*_"$version"_*.deb
if [[ $bundles == *rpm* ]]; then ls -1 "$target"/$profile/bundle/rpm/*-"$version"-*.rpm; fi
