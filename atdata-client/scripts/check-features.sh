#!/usr/bin/env bash
# Each namespace feature of atdata-api and atdata-client must build on its own (with the features
# it turns on), and so must each crate with none. `cargo check` only: a few seconds per feature
# once the dependencies are built.
set -euo pipefail
cd "$(dirname "$0")/../.."
for features in "" com-atproto app-bsky chat-bsky tools-ozone; do
    echo "== cargo check -p atdata-api --no-default-features --features '$features'"
    cargo check -p atdata-api --no-default-features --features "$features" --all-targets --locked
done
for features in "" com-atproto app-bsky chat-bsky tools-ozone http identity "http,com-atproto" "http,app-bsky"; do
    echo "== cargo check -p atdata-client --no-default-features --features '$features'"
    cargo check -p atdata-client --no-default-features --features "$features" --all-targets --locked
done
