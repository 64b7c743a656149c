#!/usr/bin/env bash
# `npm start`: Keel in a real VS Code on this machine. Builds and packs the extension
# (`npm run package`), installs code-server on first use (the recipe the end-to-end tests use,
# cached in ${TMPDIR:-/tmp}/keel-e2e), installs the .vsix into a profile of its own, and opens
# the samples/ folder at http://127.0.0.1:PORT (KEEL_PORT, default 8080). Ctrl-C stops it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${KEEL_E2E_DIR:-${TMPDIR:-/tmp}/keel-e2e}
PORT=${KEEL_PORT:-8080}
HOME_DIR=${KEEL_START_DIR:-$DIR/start}

bash "$ROOT/test/e2e/setup.sh" "$DIR"
. "$DIR/env"
CS="$TOOLS/node_modules/.bin/code-server"
mkdir -p "$HOME_DIR/ud/User" "$HOME_DIR/ext"
(cd "$ROOT" && node scripts/package.mjs --out "$HOME_DIR/keel.vsix")
: >"$HOME_DIR/config.yaml"
if [ ! -f "$HOME_DIR/ud/User/settings.json" ]; then
  cat >"$HOME_DIR/ud/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off"
}
JSON
fi
export EXTENSIONS_GALLERY='{}' # no extension gallery: nothing leaves the machine
export PATH="$NODE24/bin:$PATH"
COMMON=(--config "$HOME_DIR/config.yaml" --user-data-dir "$HOME_DIR/ud" --extensions-dir "$HOME_DIR/ext"
  --disable-telemetry --disable-update-check)
"$CS" "${COMMON[@]}" --install-extension "$HOME_DIR/keel.vsix" --force >/dev/null
echo
echo "Keel is ready in VS Code: http://127.0.0.1:$PORT/?folder=$ROOT/samples"
echo "(open a *.keel.yaml file; Ctrl-C here stops it)"
echo
exec "$CS" "${COMMON[@]}" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-getting-started-override "$ROOT/samples"
