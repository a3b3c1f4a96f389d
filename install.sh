#!/usr/bin/env bash
# Installs msp and its two Claude Code hooks to $MSP_BIN_DIR (default
# ~/.local/bin), creates or migrates the local store and registers this
# machine (`msp setup`). Safe to run again: it says what did not change.
#
#   ./install.sh              build release binaries here, then install them
#   ./install.sh --from DIR   install prebuilt msp, msp-recall and msp-save
#                             from DIR (no Rust toolchain needed)
set -euo pipefail
cd "$(dirname "$0")"

from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || { echo "install.sh: --from needs a directory" >&2; exit 2; }; from="$2"; shift 2 ;;
    --from=*) from="${1#--from=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

bin_dir="${MSP_BIN_DIR:-$HOME/.local/bin}"
if [ -n "$from" ]; then
  src_dir="$from"
  for name in msp msp-recall msp-save; do
    if [ ! -f "$src_dir/$name" ] || [ ! -x "$src_dir/$name" ]; then
      echo "install.sh: $src_dir/$name is missing or not executable; --from needs all three binaries" >&2
      exit 1
    fi
  done
  if ! "$src_dir/msp" --version >/dev/null 2>&1; then
    echo "install.sh: $src_dir/msp does not run on this machine (built for another system?)" >&2
    exit 1
  fi
else
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install.sh: cargo is required (the Rust toolchain: https://rustup.rs), or pass --from DIR with prebuilt binaries" >&2
    exit 1
  fi
  echo "building release binaries (first build takes a few minutes)..."
  cargo build --release --locked --bins --quiet
  src_dir="target/release"
fi

mkdir -p "$bin_dir" || { echo "install.sh: cannot create $bin_dir; set MSP_BIN_DIR to a writable directory" >&2; exit 1; }
for name in msp msp-recall msp-save; do
  src="$src_dir/$name"
  dest="$bin_dir/$name"
  if cmp -s "$src" "$dest"; then
    echo "binary   unchanged $dest"
  else
    # Copy then rename, so a hook running right now never sees half a file.
    install -m 0755 "$src" "$dest.new.$$"
    mv -f "$dest.new.$$" "$dest"
    echo "binary   installed $dest"
  fi
done

"$bin_dir/msp" setup

case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "note: $bin_dir is not on your PATH; add it, e.g. echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.bashrc" ;;
esac
