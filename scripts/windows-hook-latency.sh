#!/usr/bin/env bash
# Times the recall hook (UserPromptSubmit) of a built msp under Wine, beside
# Wine's own start-up cost (`msp.exe --version`), as medians of N runs.
#
#   scripts/windows-hook-latency.sh [BIN_DIR] [N]
# BIN_DIR holds msp.exe and msp-recall.exe (default: the Windows debug build);
# also takes a Linux BIN_DIR (msp, msp-recall) to compare, run natively.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/windows-env.sh
. "$here/windows-env.sh"
bin="${1:-$MSP_WIN_TARGET_DIR/$MSP_WIN_TARGET/debug}"
n="${2:-20}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -f "$bin/msp.exe" ]; then
    run=(wine); ext=".exe"; path() { winepath -w "$1" 2>/dev/null; }
else
    run=(); ext=""; path() { printf '%s' "$1"; }
fi
mkdir -p "$tmp/project"
export MSP_DATA_DIR MSP_CONFIG_DIR MSP_MEMORY_MODEL_URL=""
MSP_DATA_DIR="$(path "$tmp/data")"; MSP_CONFIG_DIR="$(path "$tmp/config")"
cwd="$(path "$tmp/project")"
"${run[@]}" "$bin/msp$ext" setup --claude-settings "$(path "$tmp/settings.json")" >/dev/null 2>&1
for i in $(seq 1 20); do
    "${run[@]}" "$bin/msp$ext" context add --title "fs01 print spooler crash $i" --body "fixed by removing the HP universal print driver" >/dev/null 2>&1 || true
done
event=$(printf '{"session_id":"lat","transcript_path":"","cwd":%s,"hook_event_name":"UserPromptSubmit","prompt":"the fs01 spooler crashes, which driver?"}' \
    "$(printf '%s' "$cwd" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() {
    local s e
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    echo $(( (e - s) / 1000000 ))
}
# A warm Wine server, as while Claude Code runs hooks one after another.
"${run[@]}" "$bin/msp$ext" --version >/dev/null 2>&1
floor=$(for _ in $(seq 1 "$n"); do time_ms "${run[@]}" "$bin/msp$ext" --version; done | median)
recall=$(for _ in $(seq 1 "$n"); do time_ms sh -c "printf '%s' '$event' | ${run[*]} '$bin/msp-recall$ext'"; done | median)
echo "start-up (msp --version): ${floor} ms median of $n"
echo "recall hook (UserPromptSubmit): ${recall} ms median of $n"
