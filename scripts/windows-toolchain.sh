#!/usr/bin/env bash
# Installs what building msp for Windows (and for static Linux) needs on a
# Debian 12 machine, and a Wine prefix to run the Windows binaries in.
# Idempotent: a second run changes nothing and takes a few seconds.
#
#   scripts/windows-toolchain.sh          # Windows toolchain + Wine
#   scripts/windows-toolchain.sh --musl   # also musl-tools for the static Linux build
#
# Nothing here replaces the rustup toolchain: Debian's rustc-web/cargo-web
# install /usr/bin/rustc and /usr/bin/cargo, which the build scripts call by
# full path, while `cargo` on PATH stays rustup's. The standard library is
# built from source (rust-web-src) with -Zbuild-std, because no prebuilt
# Windows standard library is installed by Debian's packages.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/windows-env.sh
. "$here/windows-env.sh"

want_musl=0
for arg in "$@"; do
    case "$arg" in
        --musl) want_musl=1 ;;
        *) echo "windows-toolchain.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64)
[ "$want_musl" = 1 ] && packages+=(musl-tools libunwind-14-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "windows-toolchain.sh: installing ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null >/dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

"$MSP_WIN_RUSTC" --version >/dev/null
[ -d "$("$MSP_WIN_RUSTC" --print sysroot)/lib/rustlib/src/rust/library" ] || {
    echo "windows-toolchain.sh: rust-web-src did not install the standard library source" >&2
    exit 1
}

# The ProcessPrng shim, built from its source in the repo when that changes.
mkdir -p "$MSP_WIN_CACHE"
shim_src="$here/windows/bcryptprimitives.c"
shim_dll="$MSP_WIN_CACHE/bcryptprimitives.dll"
if [ ! -f "$shim_dll" ] || [ "$shim_src" -nt "$shim_dll" ]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$shim_dll.part" "$shim_src" -ladvapi32
    mv "$shim_dll.part" "$shim_dll"
fi

# A 64-bit Wine prefix of our own, made once; the shim goes into system32.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "windows-toolchain.sh: creating the Wine prefix $WINEPREFIX" >&2
    mkdir -p "$WINEPREFIX"
    wineboot --init >/dev/null 2>&1 || true
    wineserver -w || true
fi
sys32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$sys32" ] || { echo "windows-toolchain.sh: Wine prefix has no system32 ($sys32)" >&2; exit 1; }
cmp -s "$shim_dll" "$sys32/bcryptprimitives.dll" || cp "$shim_dll" "$sys32/bcryptprimitives.dll"
echo "windows-toolchain.sh: ready ($("$MSP_WIN_RUSTC" --version), $(wine --version), prefix $WINEPREFIX)" >&2
