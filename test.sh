#!/usr/bin/env bash
# The test command: everything msp's tests need, then the whole suite.
# Extra arguments go to `cargo test` (e.g. ./test.sh --test it hooks::).
set -euo pipefail
cd "$(dirname "$0")"
# The sync tests start a throwaway PostgreSQL cluster (tests/it/support/pg.rs).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "test.sh: installing PostgreSQL for the sync tests" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql </dev/null
fi
# A missing or changed snapshot fails; new snapshots are never written silently.
export INSTA_UPDATE=no
cargo test --locked "$@"
