#!/usr/bin/env bash
# Measures the app's cold start to first paint and its idle memory with no model loaded, under Xvfb.
#   xvfb-run -a -s "-screen 0 1280x800x24" scripts/measure-startup.sh target/release/complexitynet [RUNS]
# First paint: the page calls `app_ready` after its first animation frame; the app logs the time since its
# process started. Idle RSS: 10 s after first paint, summed over the app and its WebKit helper processes
# (WebKitWebProcess, WebKitNetworkProcess), which hold most of a webview app's memory.
set -euo pipefail
bin=$(realpath "${1:?usage: measure-startup.sh APP_BINARY [RUNS]}")
runs=${2:-3}

descendants() { # the pid and every process below it
  local p=$1
  echo "$p"
  for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do descendants "$c"; done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

for i in $(seq "$runs"); do
  data=$(mktemp -d)
  log=$data/stderr.log
  t0=$(date +%s%N)
  RUST_LOG=info COMPLEXITYNET_DATA_DIR=$data "$bin" 2>"$log" &
  pid=$!
  for _ in $(seq 600); do grep -q 'first paint' "$log" && break; sleep 0.1; done
  t1=$(date +%s%N)
  paint=$(grep -o 'first_paint_ms=[0-9]*' "$log" | head -1 | cut -d= -f2 || true)
  sleep 10
  main=$(rss_kib "$pid")
  total=0
  for p in $(descendants "$pid"); do total=$((total + $(rss_kib "$p"))); done
  printf 'run %d: first paint %s ms after process start (%d ms wall from launch); idle RSS: app %d MiB, app + WebKit helpers %d MiB\n' \
    "$i" "${paint:-?}" "$(((t1 - t0) / 1000000))" "$((main / 1024))" "$((total / 1024))"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
done
