#!/usr/bin/env bash
# The editor end-to-end test (`npm run e2e`): the packed Keel extension in a real VS Code.
#  1. installs what it needs outside the repository (setup.sh; cached in $KEEL_E2E_DIR, default
#     ${TMPDIR:-/tmp}/keel-e2e): Debian's chromium, Node 24, code-server, playwright-core;
#  2. builds the bundles (after `npm ci` in a fresh clone) and packs the extension offline to a
#     .vsix with the project's vsce (and checks that what the extension loads is in it);
#  3. starts code-server on 127.0.0.1 with a throw-away user-data-dir and extensions-dir, installs
#     the .vsix, opens a copy of samples/ plus test/e2e/fixtures/broken.keel.yaml, with a team's
#     PostgreSQL database (team-db.ts) in keel.runs.postgresUrl;
#  4. drives it with playwright-core in chromium (driver.cjs): Problems panel, squiggles, ${{ }}
#     highlighting, a clean sample, dark and light themes; screenshots in docs/screenshots/
#     (override with KEEL_E2E_SHOTS);
#  5. stops code-server by killing its process group. Exits non-zero on any failure.
# Needs root for apt-get the first time (or chromium, build-essential, pkg-config, python3 and
# libkrb5-dev installed beforehand). KEEL_E2E_KEEP=1 keeps the run's temp folder.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/test/e2e"
DIR=${KEEL_E2E_DIR:-${TMPDIR:-/tmp}/keel-e2e}
SHOTS=${KEEL_E2E_SHOTS:-$ROOT/docs/screenshots}
T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
  echo "e2e: FAIL: $*" >&2
  exit 1
}

# 1. tools
mkdir -p "$DIR"
bash "$HERE/setup.sh" "$DIR" || fail "setup did not finish (see above)"
# shellcheck source=/dev/null
. "$DIR/env"
CS="$TOOLS/node_modules/.bin/code-server"
echo "e2e: setup $(since "$T0") s"

# 2. build and pack
T1=$EPOCHREALTIME
if [ ! -d "$ROOT/node_modules/esbuild" ]; then # a fresh clone
  (cd "$ROOT" && npm ci --no-audit --no-fund) || fail "npm ci failed"
fi
DATA=$(mktemp -d "$DIR/run-XXXXXX")
SERVER=""
DRIVER=""
MEMWATCH=""
TEAMDB=""
cleanup() {
  local rc=$?
  [ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null
  [ -n "$TEAMDB" ] && kill "$TEAMDB" 2>/dev/null
  [ -n "$SERVER" ] && kill -- "-$SERVER" 2>/dev/null
  [ -n "$MEMWATCH" ] && kill "$MEMWATCH" 2>/dev/null
  if [ $rc = 0 ] && [ "${KEEL_E2E_KEEP:-0}" != 1 ]; then
    rm -rf "$DATA"
  else
    echo "e2e: kept $DATA (code-server.log, keel.vsix, the workspace; fail.png if a check failed)"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the extension under test is what `npm run package` builds (it builds dist/ for production
# first; the CLI the test runs below is that build too)
(cd "$ROOT" && node scripts/package.mjs --out "$DATA/keel.vsix") || fail "npm run package failed"
# what the extension loads at run time must be in the .vsix
python3 - "$DATA/keel.vsix" "$ROOT/package.json" <<'PY' || fail "the .vsix lacks files the extension needs (see .vscodeignore)"
import json, sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
m = json.load(open(sys.argv[2]))
need = {m["main"], "package.json", "dist/server.js"}
need |= {g["path"] for g in m["contributes"]["grammars"]}
need |= {l["configuration"] for l in m["contributes"]["languages"] if "configuration" in l}
need = sorted("extension/" + p.removeprefix("./") for p in need)
missing = [p for p in need if p not in names]
print("e2e: the .vsix holds %d files; checked: %s" % (len(names), ", ".join(need)))
if missing:
    print("e2e: missing from the .vsix: " + ", ".join(missing))
    sys.exit(1)
PY
echo "e2e: build and pack $(since "$T1") s"

# 3. workspace, settings, code-server
WS="$DATA/workspace"
cp -r "$ROOT/samples" "$WS"
rm -rf "$WS/.keel"
cp "$HERE/fixtures/broken.keel.yaml" "$HERE/fixtures/slow.keel.yaml" "$WS/"
# the counting model server that driver.cjs starts: its address goes into the workflow, its key
# reaches runs through the environment (the extension passes KEEL_SECRET_* on to `keel run`)
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PROVIDER_PORT=$(free_port)
sed "s#__PROVIDER_URL__#http://127.0.0.1:$PROVIDER_PORT/v1#" "$HERE/fixtures/provider.keel.yaml" >"$WS/provider.keel.yaml"
export KEEL_SECRET_E2E_KEY=e2e-key-7d1f
node "$ROOT/bin/keel.js" validate --json "$WS/broken.keel.yaml" >"$DATA/expected.json"
[ $? = 1 ] || fail "keel validate did not report the errors of broken.keel.yaml"
node "$ROOT/bin/keel.js" validate "$WS/support-triage.keel.yaml" >/dev/null ||
  fail "keel validate reports problems in samples/support-triage.keel.yaml"

# a team's database (team-db.ts): a throw-away PostgreSQL holding one run of support-triage that
# a `keel worker` executed; the Runs view reads it through keel.runs.postgresUrl
(cd "$ROOT" && exec node --import tsx "$HERE/team-db.ts" "$WS/support-triage.keel.yaml") \
  >"$DATA/team" 2>"$DATA/team.log" &
TEAMDB=$!
for _ in $(seq 1 600); do
  [ -s "$DATA/team" ] && break
  kill -0 "$TEAMDB" 2>/dev/null || break
  sleep 0.1
done
read -r TEAM_URL TEAM_RUN <"$DATA/team" ||
  fail "the team's database did not start: $(cat "$DATA/team.log")"
if [ "$TEAM_URL" = - ]; then
  echo "e2e: no Team runs check: $(cat "$DATA/team.log")"
  TEAM_URL=""
  TEAM_RUN=""
fi
rm -rf "$WS/.keel" # the worker's run is in PostgreSQL only

mkdir -p "$DATA/ud/User" "$DATA/ext"
: >"$DATA/config.yaml" # keeps code-server off ~/.config/code-server/config.yaml
# Workspace trust is on and the workspace opens untrusted (Restricted Mode, no prompt): the driver
# checks that a shell step is refused there, then trusts the folder as a user would.
# In a browser VS Code saves edits after a second by default ("files.autoSave": "afterDelay");
# desktop VS Code does not, and the test types an error and reverts it: off, as on the desktop.
# "Dark 2026" is this VS Code's default dark theme (in a browser it starts in "Light 2026");
# driver.cjs switches to the light one later with "Preferences: Color Theme"
cat >"$DATA/ud/User/settings.json" <<'JSON'
{
  "workbench.colorTheme": "Dark 2026",
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.enableExperiments": false,
  "workbench.tips.enabled": false,
  "workbench.editor.enablePreview": false,
  "files.autoSave": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off",
  "chat.disableAIFeatures": true,
  "security.workspace.trust.enabled": true,
  "security.workspace.trust.startupPrompt": "never"
}
JSON
# keel.runs.postgresUrl is machine-scoped (a database URL belongs to the machine that reaches it):
# in a remote window, which a browser's code-server window is, such settings come from the
# remote machine's settings, not the user's
mkdir -p "$DATA/ud/Machine"
cat >"$DATA/ud/Machine/settings.json" <<JSON
{ "keel.runs.postgresUrl": "$TEAM_URL" }
JSON
export EXTENSIONS_GALLERY='{}' # no extension gallery: nothing leaves the machine
export PATH="$NODE24/bin:$PATH"
COMMON=(--config "$DATA/config.yaml" --user-data-dir "$DATA/ud" --extensions-dir "$DATA/ext"
  --disable-telemetry --disable-update-check)
"$CS" "${COMMON[@]}" --install-extension "$DATA/keel.vsix" || fail "code-server could not install the .vsix"
"$CS" "${COMMON[@]}" --list-extensions | grep -qx "keel.keel" || fail "keel.keel is not installed"

PORT=${KEEL_E2E_PORT:-$(free_port)}
T2=$EPOCHREALTIME
# its own process group, so that the stop ends the extension host and language server too
setsid "$CS" "${COMMON[@]}" --bind-addr "127.0.0.1:$PORT" --auth none \
  --disable-getting-started-override "$WS" >"$DATA/code-server.log" 2>&1 &
SERVER=$!
node -e '
  const url = process.argv[1], end = Date.now() + 60000;
  (async () => {
    for (;;) {
      try { if ((await fetch(url)).ok) return; } catch {}
      if (Date.now() > end) { console.error("code-server did not answer " + url); process.exit(1); }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();' "http://127.0.0.1:$PORT/healthz" || fail "code-server did not start (see $DATA/code-server.log)"
echo "e2e: code-server on 127.0.0.1:$PORT after $(since "$T2") s"

# 4. the browser
KEEL_E2E_URL="http://127.0.0.1:$PORT/?folder=$WS" \
  KEEL_E2E_EXPECTED="$DATA/expected.json" \
  KEEL_E2E_BROKEN="$WS/broken.keel.yaml" \
  KEEL_E2E_SHOTS="$SHOTS" \
  KEEL_E2E_FAILSHOT="$DATA/fail.png" \
  KEEL_E2E_PROVIDER_PORT="$PROVIDER_PORT" \
  KEEL_E2E_TEAM_RUN="$TEAM_RUN" \
  PW_CORE="$TOOLS/node_modules/playwright-core" \
  node "${KEEL_E2E_DRIVER:-$HERE/driver.cjs}" &
DRIVER=$!
bash "$HERE/memwatch.sh" "$DATA/peak-mib" "$SERVER" "$DRIVER" &
MEMWATCH=$!
wait "$DRIVER"
RC=$?
DRIVER=""

# 5. stop
kill -- "-$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
SERVER=""
wait "$MEMWATCH" 2>/dev/null
MEMWATCH=""
kill "$TEAMDB" 2>/dev/null
wait "$TEAMDB" 2>/dev/null
TEAMDB=""
if grep -qE "ENOTFOUND|getaddrinfo" "$DATA/code-server.log"; then
  echo "e2e: warning: code-server tried to reach a non-local host (see $DATA/code-server.log)"
fi
echo "e2e: code-server run $(since "$T2") s, peak memory (PSS of code-server, extension host," \
  "language server, chromium, driver) $(cat "$DATA/peak-mib" 2>/dev/null || echo '?') MiB; total $(since "$T0") s"
[ $RC = 0 ] || fail "the editor checks failed (see above)"
echo "e2e: PASS; screenshots in $SHOTS"
