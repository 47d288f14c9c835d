#!/usr/bin/env bash
# The installed package, as a user gets it (run by scripts/test.sh; needs root or sudo, Xvfb,
# WebKitWebDriver, and the Python with selenium + pytest at $E2E_PYTHON):
#   1. build it (scripts/package.sh) and install it with apt, which pulls in what it declares; the package is made
#      around the dev-profile binary the tests built, or with COMPLEXITYNET_PACKAGE_PROFILE=release (CI) around the
#      release build users install (a whole second build on a machine that has not built it);
#   2. from a directory that is not the checkout, with a fresh HOME: `complexitynet doctor` reports every check
#      (the local tier's model missing, with the way to get it) and `verify` runs MBPP's references;
#   3. the command of its desktop entry opens the window over WebDriver, on Chat, with the first-launch notice;
#   4. `apt remove` takes the app away and leaves the user's data folder exactly as it was.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
shared=${COMPLEXITYNET_SHARED_DATA:?set COMPLEXITYNET_SHARED_DATA (the folder with mbpp.jsonl)}
python=${E2E_PYTHON:-python3}
artifacts=${E2E_ARTIFACTS:-${CARGO_TARGET_DIR:-$ROOT/target}/e2e}
mkdir -p "$artifacts"

step "package"
package_args=()
[ "${COMPLEXITYNET_PACKAGE_PROFILE:-debug}" = release ] || package_args=(--debug)
deb=$(bash "$ROOT/scripts/package.sh" "${package_args[@]}" | grep '\.deb$' | head -1)
echo "package: $deb ($(du -h "$deb" | cut -f1))" >&2
name=$(dpkg-deb -f "$deb" Package)
dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ */  depends: /' >&2

step "install"
# A copy left by an earlier run (the same version would be kept as it is) goes first: this is a fresh install.
if dpkg -s "$name" >/dev/null 2>&1; then as_root apt-get remove -y -qq "$name" >/dev/null; fi
as_root apt-get install -y -qq "$deb" >/dev/null
hash -r
bin=$(command -v complexitynet)
[ "$bin" = /usr/bin/complexitynet ] || { echo "error: the package put complexitynet at $bin, not /usr/bin" >&2; exit 1; }
desktop=$(dpkg -L "$name" | grep '\.desktop$' | head -1)
grep -q '^Categories=.*Development' "$desktop" || { echo "error: $desktop is not in the Development category" >&2; exit 1; }
icon=$(sed -n 's/^Icon=//p' "$desktop")
dpkg -L "$name" | grep -q "/icons/hicolor/.*/$icon.png" || { echo "error: no icon $icon in the package" >&2; exit 1; }
exec_line=$(sed -n 's/^Exec=//p' "$desktop" | head -1)
launcher=$(command -v "${exec_line%% *}")

# Another working directory and a fresh home: nothing may come from the checkout or the developer's data.
away=$(mktemp -d)
home=$(mktemp -d)
cd "$away"
export HOME=$home
unset COMPLEXITYNET_DATA_DIR XDG_DATA_HOME XDG_CACHE_HOME XDG_CONFIG_HOME
data=$home/.local/share/complexitynet

step "doctor (installed)"
complexitynet doctor --json > doctor.json
"$python" - doctor.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
checks = {c["name"]: c for c in r["checks"]}
print("\n".join(f"  {c['status']:<9} {c['name']:<22} {c['detail']}" for c in r["checks"]), file=sys.stderr)
assert r["sandbox_mode"] == "bubblewrap", r["sandbox_mode"]
for name in ("database", "python3", "sandbox"):
    assert checks[name]["status"] == "ok", checks[name]
local = checks["local tier"]
assert local["status"] == "missing" and "models download" in local["detail"], local
PY

step "verify (installed)"
complexitynet dataset import "$shared/mbpp.jsonl" --name mbpp >/dev/null
# A generous wall-clock limit: task 123 computes for seconds, and a verdict must not flip with the load.
complexitynet verify --dataset mbpp --reference --timeout-ms 60000 --json > refs.json
"$python" - refs.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  {r['passed']}/{r['total']} MBPP references pass", file=sys.stderr)
assert (r["passed"], r["total"]) == (971, 974), r["failing"]
PY

step "window (installed, from its desktop entry)"
driver=$("$ROOT/tests/e2e/webdriver.sh" 4444 "$artifacts/installed-webdriver.log")
trap 'kill $driver 2>/dev/null || true' EXIT
APP_BINARY=$launcher E2E_ARTIFACTS=$artifacts WEBDRIVER_URL=http://127.0.0.1:4444 \
  "$python" -m pytest -q -p no:cacheprovider "$ROOT/tests/installed" >&2
kill $driver 2>/dev/null || true

step "remove"
before=$(cd "$data" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
as_root apt-get remove -y -qq "$name" >/dev/null
hash -r
if dpkg -s "$name" 2>/dev/null | grep -q '^Status: install' || [ -e /usr/bin/complexitynet ]; then
  echo "error: $name is still installed" >&2
  exit 1
fi
after=$(cd "$data" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
[ "$before" = "$after" ] || { echo "error: removing the package changed the data folder $data" >&2; exit 1; }
echo "  the data folder is as it was: $(find "$data" -type f | wc -l) files" >&2
cd /
rm -rf "$away" "$home"
step "done"
