#!/usr/bin/env bash
# A statically linked Linux build (x86_64-unknown-linux-musl) of msp,
# msp-recall and msp-save: one set of binaries for any Linux distribution.
# Same route as the Windows build: Debian's rustc-web with -Zbuild-std (no
# prebuilt musl standard library is installed by Debian's packages), and
# musl-tools as the C compiler for SQLite and zstd.
#
#   scripts/build-musl.sh     ->  target/musl/x86_64-unknown-linux-musl/release/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/windows-toolchain.sh --musl
# shellcheck source=scripts/windows-env.sh
. scripts/windows-env.sh
# The linker is musl-gcc plus scripts/musl/fortify.c (see there), linking
# -static (without it musl-gcc links against ld-musl.so, which other
# distributions lack), through a wrapper of the same name first on PATH.
wrap="$MSP_WIN_CACHE/musl-bin"
mkdir -p "$wrap"
fortify="$MSP_WIN_CACHE/musl-fortify.o"
if [ ! -f "$fortify" ] || [ scripts/musl/fortify.c -nt "$fortify" ]; then
    musl-gcc -O2 -c -o "$fortify" scripts/musl/fortify.c
fi
cat > "$wrap/musl-gcc" <<WRAP
#!/bin/sh
case " \$* " in *" -c "*) exec /usr/bin/musl-gcc "\$@" ;; esac
exec /usr/bin/musl-gcc "\$@" "$fortify" -static
WRAP
chmod +x "$wrap/musl-gcc"
export PATH="$wrap:$PATH"
export CC_x86_64_unknown_linux_musl=musl-gcc
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc
# Debian's rustc ships no self-contained musl objects: musl-gcc brings the
# C runtime, and LLVM's libunwind (libunwind-14-dev) the unwinder std links.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-self-contained=no -L native=/usr/lib/llvm-14/lib"
RUSTC="$MSP_WIN_RUSTC" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="${MSP_MUSL_TARGET_DIR:-target/musl}" \
    "$MSP_WIN_CARGO" build --locked --release --bins -Zbuild-std=std,panic_abort \
    --target x86_64-unknown-linux-musl "$@"
out="${MSP_MUSL_TARGET_DIR:-target/musl}/x86_64-unknown-linux-musl/release"
file "$out/msp" 2>/dev/null || true
ls -l "$out/msp" "$out/msp-recall" "$out/msp-save"
