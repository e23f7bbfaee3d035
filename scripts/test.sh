#!/usr/bin/env bash
# Runs the whole test suite: unit, interop-fixture, corpus, property and CLI tests, and doc tests.
# Needs only a Rust toolchain; everything the tests read is vendored under testdata/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features --locked
