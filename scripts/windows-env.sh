# Sourced by the Windows build scripts: where the toolchain, the Wine prefix
# and the Windows target dir live. Override any of these from the environment.
export MSP_WIN_RUSTC="${MSP_WIN_RUSTC:-/usr/bin/rustc}"
export MSP_WIN_CARGO="${MSP_WIN_CARGO:-/usr/bin/cargo}"
export MSP_WIN_CACHE="${MSP_WIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msp-windows}"
export WINEPREFIX="${WINEPREFIX:-$MSP_WIN_CACHE/wine}"
export WINEARCH=win64
# Wine's own chatter (fixme:, err: about absent devices) is not ours.
export WINEDEBUG="${WINEDEBUG:--all}"
# No Mono/Gecko install prompts when the prefix is made.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
# The Windows build has its own target dir, so it never invalidates the
# Linux one, and builds the standard library from source.
export MSP_WIN_TARGET="${MSP_WIN_TARGET:-x86_64-pc-windows-gnu}"
export MSP_WIN_TARGET_DIR="${MSP_WIN_TARGET_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/windows}"
# Dev profile without debug info: the std build and the link stay quick.
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-false}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="${CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER:-wine}"

# Runs Debian's cargo for the Windows target: `msp_win_cargo build --bins`.
msp_win_cargo() {
    local sub="$1"; shift
    RUSTC="$MSP_WIN_RUSTC" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$MSP_WIN_TARGET_DIR" \
        "$MSP_WIN_CARGO" "$sub" -Zbuild-std=std,panic_abort --target "$MSP_WIN_TARGET" "$@"
}
