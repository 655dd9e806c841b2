#!/usr/bin/env bash
# Sets up a real VS Code for the end-to-end tests: code-server (VS Code served from its npm
# package) plus playwright-core, driven through Debian's Chromium. Works offline apart from the
# npm registry and Debian's apt mirror. Re-running on a finished install does nothing.
# usage: scripts/e2e-setup.sh [DIR]   (default .e2e next to package.json)
# env:   CODE_SERVER_VERSION (default 4.100.3: later releases need Node 22)
#        PLAYWRIGHT_VERSION  (default 1.55)
set -euo pipefail
CS_VERSION=${CODE_SERVER_VERSION:-4.100.3}
PW_VERSION=${PLAYWRIGHT_VERSION:-1.55}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "${1:-$ROOT/.e2e}"; DIR=$(cd "${1:-$ROOT/.e2e}" && pwd)
STAMP="$DIR/.ready-$CS_VERSION"
if [ -f "$STAMP" ]; then echo "e2e: code-server $CS_VERSION already set up in $DIR"; exit 0; fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || { echo "e2e: code-server $CS_VERSION needs Node 20 (found $node_major)" >&2; exit 1; }

# Debian packages: the browser we drive, ripgrep standing in for the rg binary VS Code would
# download, and a toolchain for code-server's native modules (node-pty, spdlog, kerberos, argon2).
# fonts-nanum: Korean glyphs for the screenshots of the Korean UI.
pkgs="chromium fonts-nanum ripgrep g++ make python3 pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub (unreachable), but first looks for the
# archive in <tmpdir>/vscode-ripgrep-cache-<version>/. Seed that cache with Debian's rg under
# the exact name it expects; version and tag are read from the packages, not hard-coded.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "code-server@$CS_VERSION" >/dev/null \
  && tar xzf "code-server-$CS_VERSION.tgz" package/lib/vscode/npm-shrinkwrap.json)
rg_pkg=$(node -p "require('$tmp/package/lib/vscode/npm-shrinkwrap.json').packages['node_modules/@vscode/ripgrep'].version")
(cd "$tmp" && npm pack -q "@vscode/ripgrep@$rg_pkg" >/dev/null \
  && mkdir rgp && tar xzf "vscode-ripgrep-$rg_pkg.tgz" -C rgp package/lib/postinstall.js)
rg_tag=$(sed -n "s/^const VERSION = '\([^']*\)'.*/\1/p" "$tmp/rgp/package/lib/postinstall.js")
case $(uname -m) in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) echo "e2e: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$rg_pkg"
mkdir -p "$cache" "$tmp/rg"; cp "$(command -v rg)" "$tmp/rg/rg"
tar czf "$cache/ripgrep-$rg_tag-$rg_target.tar.gz" -C "$tmp/rg" rg

# One stock install in its own folder (kept out of the project's node_modules).
# unsafe_perm: code-server's postinstall refuses to run as root without it;
# yes: node-pty's install runs `npx node-gyp`, which npm_config_yes=false would refuse.
cd "$DIR"
# allowScripts: the two install scripts this needs, approved by name (npm 11 warns otherwise).
[ -f package.json ] || echo '{"private": true, "allowScripts": {"code-server": true, "argon2": true}}' > package.json
export npm_config_unsafe_perm=true npm_config_yes=true
npm install --no-audit --no-fund --save-exact "code-server@$CS_VERSION" "playwright-core@$PW_VERSION"
[ -x node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg ] || { echo "e2e: rg missing after install" >&2; exit 1; }
touch "$STAMP"
echo "e2e: code-server ready: $DIR/node_modules/.bin/code-server"
