#!/usr/bin/env bash
# Installs the real Claude Code CLI (a pinned version, from the npm registry)
# into a cache folder once, and prints the path of its executable on stdout.
# Everything else goes to stderr. A no-op (one `--version` check) when cached.
#   CLAUDE_CODE_VERSION   version to install (default below)
#   MSP_E2E_CACHE         cache folder (default ~/.cache/msp-e2e)
# When npm is missing it installs Debian's `nodejs npm` with apt-get (as root,
# or through sudo), running `apt-get update` first. Exits non-zero, with a
# message on stderr, when anything fails.
set -euo pipefail
version="${CLAUDE_CODE_VERSION:-2.1.328}"
cache="${MSP_E2E_CACHE:-${HOME:?HOME is not set}/.cache/msp-e2e}"
dir="$cache/claude-code-$version"

say() { echo "install-claude.sh: $*" >&2; }

find_bin() {
  local b
  for b in "$dir/node_modules/@anthropic-ai/claude-code/bin/claude.exe" \
           "$dir"/node_modules/@anthropic-ai/claude-code-linux-*/claude \
           "$dir/node_modules/.bin/claude"; do
    if [ -x "$b" ] && "$b" --version >/dev/null 2>&1; then echo "$b"; return 0; fi
  done
  return 1
}

if find_bin; then exit 0; fi

mkdir -p "$cache"
# One installer at a time (parallel test binaries, or two checkouts).
if command -v flock >/dev/null; then
  exec 9>"$cache/.install-$version.lock"
  flock 9
  if find_bin; then exit 0; fi
fi

if ! command -v npm >/dev/null; then
  say "npm not found; installing nodejs and npm with apt-get"
  command -v apt-get >/dev/null || { say "npm is missing and there is no apt-get: install Node.js and npm"; exit 1; }
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { say "npm is missing and installing it needs root (apt-get install -y nodejs npm)"; exit 1; }
    sudo="sudo -n"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2 || { say "apt-get update failed"; exit 1; }
  $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2 \
    || { say "apt-get install nodejs npm failed"; exit 1; }
  command -v npm >/dev/null || { say "npm still not found after apt-get install"; exit 1; }
fi

say "installing @anthropic-ai/claude-code@$version into $dir"
rm -rf "$dir"
mkdir -p "$dir"
npm_install() {
  npm install --prefix "$dir" --no-audit --no-fund --no-save --update-notifier=false \
    --loglevel=error "$@" \
    "@anthropic-ai/claude-code@$version" >&2
}
if ! npm_install; then
  # When the postinstall step (it copies the native binary into bin/) is what
  # failed, e.g. on an old Node.js, the platform package's binary works as is.
  say "npm install failed; trying again without install scripts"
  rm -rf "$dir"; mkdir -p "$dir"
  npm_install --ignore-scripts || { say "npm install @anthropic-ai/claude-code@$version failed"; exit 1; }
fi

find_bin || { say "Claude Code $version installed but no runnable binary was found under $dir"; exit 1; }
