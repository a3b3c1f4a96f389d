#!/usr/bin/env bash
# Builds msp and its two Claude Code hooks, installs them to $MSP_BIN_DIR
# (default ~/.local/bin), creates or migrates the local store and registers
# this machine (`msp setup`). Safe to run again: it says what did not change.
set -euo pipefail
cd "$(dirname "$0")"

bin_dir="${MSP_BIN_DIR:-$HOME/.local/bin}"
if ! command -v cargo >/dev/null 2>&1; then
  echo "install.sh: cargo is required (the Rust toolchain: https://rustup.rs)" >&2
  exit 1
fi

echo "building release binaries (first build takes a few minutes)..."
cargo build --release --locked --bins --quiet

mkdir -p "$bin_dir" || { echo "install.sh: cannot create $bin_dir; set MSP_BIN_DIR to a writable directory" >&2; exit 1; }
for name in msp msp-recall msp-save; do
  src="target/release/$name"
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
