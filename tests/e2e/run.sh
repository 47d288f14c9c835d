#!/usr/bin/env bash
# Runs the WebDriver end-to-end tests against a built app binary. Call it under Xvfb:
#   xvfb-run -a -s "-screen 0 1280x800x24" tests/e2e/run.sh target/debug/complexitynet
# Needs: WebKitWebDriver (Debian: webkit2gtk-driver; started by webdriver.sh), a Python with selenium + pytest
# ($E2E_PYTHON, default python3), the shared data folder ($COMPLEXITYNET_SHARED_DATA).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
app=$(realpath "${1:?usage: run.sh APP_BINARY}")
python=${E2E_PYTHON:-python3}
export APP_BINARY=$app
export COMPLEXITYNET_SHARED_DATA=${COMPLEXITYNET_SHARED_DATA:-$root/../shared/data}
export E2E_ARTIFACTS=${E2E_ARTIFACTS:-$root/target/e2e}
mkdir -p "$E2E_ARTIFACTS"
# A throwaway data dir: the app under test must never see the developer's own database. WebKitWebDriver's
# environment is inherited by the app it starts.
data=$(mktemp -d)
export COMPLEXITYNET_DATA_DIR=$data E2E_DATA_DIR=$data
# The webview's own storage (WebKit's local storage, IndexedDB, caches) goes here, so the test can search it.
export XDG_CACHE_HOME=$data/xdg-cache XDG_CONFIG_HOME=$data/xdg-config
export E2E_WEBVIEW_DIRS="$XDG_CACHE_HOME:${XDG_DATA_HOME:-$HOME/.local/share}/dev.complexitynet.desktop"
export COMPLEXITYNET_LOCAL_THREADS=${COMPLEXITYNET_LOCAL_THREADS:-1}
# The local tier runs SmolLM2 (from its PyPI wheel, fetched by scripts/fetch-models.sh).
models=${COMPLEXITYNET_TEST_MODELS:?set COMPLEXITYNET_TEST_MODELS (scripts/fetch-models.sh prints it)}
"$app" models add "$models/SmolLM2-135M-Instruct.Q4_1.gguf" --name smollm2 >/dev/null
"$app" tiers set local --model smollm2 >/dev/null
port=4444
trap 'kill ${driver:-} 2>/dev/null || true; rm -rf "$data"' EXIT
driver=$("$here/webdriver.sh" "$port" "$E2E_ARTIFACTS/webdriver.log")
"$python" -m pytest -v -p no:cacheprovider "$here" "${@:2}"
