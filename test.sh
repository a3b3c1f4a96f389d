#!/usr/bin/env bash
# The test command: everything msp's tests need, then the whole suite.
# Extra arguments go to `cargo test` (e.g. ./test.sh --test work).
set -euo pipefail
cd "$(dirname "$0")"
cargo test --locked "$@"
