#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: install the CLI, scaffold a
# function (ABI v2, for roda-ledger's current server), build and validate it,
# run its scenarios in the simulator and its native unit tests, start a local
# ledger (the project's ABI: the HEAD wire), deploy, open and fund accounts,
# call, read what the call wrote, list.
#
#   bash scripts/main-job.sh            # builds cargo-roda from this checkout
#   CARGO_RODA=/path/to/cargo-roda bash scripts/main-job.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

if [[ -z "${CARGO_RODA:-}" ]]; then
  cargo build --release --locked --manifest-path "$repo/Cargo.toml" -p cargo-roda
  CARGO_RODA="$repo/target/release/cargo-roda"
fi
# `cargo roda` runs the `cargo-roda` found on PATH.
bin=$(mktemp -d)
ln -s "$CARGO_RODA" "$bin/cargo-roda"
export PATH="$bin:$PATH"

work=$(mktemp -d)
cd "$work"
cargo roda new transfer
cd transfer
cargo roda build
cargo roda test
cargo test --quiet

cargo roda dev --listen 127.0.0.1:0 2> dev.log &
dev=$!
trap 'kill $dev 2>/dev/null || true' EXIT
# Until it listens (however long that takes here), or has exited.
until grep -q listening dev.log; do
  kill -0 "$dev" 2>/dev/null || { cat dev.log >&2; exit 1; }
  sleep 0.1
done
RODA_SERVER=$(grep -o 'http://[0-9.:]*' dev.log)
export RODA_SERVER

cargo roda deploy
cargo roda accounts open 2
cargo roda deposit 1 100
cargo roda call transfer 1 2 40 --show-entries
cargo roda kv get transfers/1
cargo roda balance 1 2
cargo roda list
kill -TERM $dev
wait $dev
echo "main job: ok"
