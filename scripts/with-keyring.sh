#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus session bus, as a
# desktop session would have. Use: dbus-run-session -- scripts/with-keyring.sh CMD...
# The keyrings live in a throwaway XDG_DATA_HOME; the daemon exits with the bus.
set -euo pipefail
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/cn-xdg-XXXX)}
export XDG_DATA_HOME=$(mktemp -d /tmp/cn-keyrings-XXXX)
echo -n 'complexitynet-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
# `--unlock` returns before the daemon owns the bus name; a client that connects first would activate a second,
# locked daemon. Wait for the name.
for _ in $(seq 200); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.05
done
"$@"
