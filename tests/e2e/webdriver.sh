#!/usr/bin/env bash
# Starts WebKitWebDriver (Debian: webkit2gtk-driver), the WebDriver server of WebKitGTK, the engine of the app's
# window on Linux, and waits until it listens:
#   tests/e2e/webdriver.sh PORT LOG    (prints the server's pid; the caller kills it)
# This is what tauri-driver does on Linux, without building it (a crate install of its own on every fresh machine):
# it starts this same server with TAURI_WEBVIEW_AUTOMATION=true, which the app inherits from the server that
# launches it and without which Tauri does not let WebKit automate its webview; the sessions then name the app in
# WebKit's own capability, `webkitgtk:browserOptions` (tests/e2e/window.py), where tauri-driver translated
# `tauri:options` into it.
set -euo pipefail
port=${1:?usage: webdriver.sh PORT LOG}
log=${2:?usage: webdriver.sh PORT LOG}
command -v WebKitWebDriver >/dev/null || {
  echo "error: WebKitWebDriver is not installed (Debian/Ubuntu: apt install webkit2gtk-driver)" >&2
  exit 1
}
TAURI_WEBVIEW_AUTOMATION=true WebKitWebDriver --port="$port" --host=local > "$log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "error: WebKitWebDriver did not listen on port $port (its log: $log)" >&2
tail -n 20 "$log" >&2 || true
kill "$pid" 2>/dev/null || true
exit 1
