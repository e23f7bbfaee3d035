#!/usr/bin/env bash
# The main job for now: the `atdata` CLI on a real repository export shipped in testdata/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p atdata-cli
atdata=target/release/atdata
car=testdata/corpus/repo-stream/car-samples/little.car

echo "== atdata car inspect $car"
"$atdata" car inspect "$car"
echo
echo "== atdata car verify $car"
"$atdata" car verify "$car"
echo
echo "== atdata car cat $car | first record"
"$atdata" car cat "$car" | grep -m1 '"\$type":"app.bsky.feed.post"'
echo
echo "== atdata syntax check at-uri at://did:plc:lulmyldiq4sb2ikags5sfb25/app.bsky.feed.post/3k"
"$atdata" syntax check at-uri at://did:plc:lulmyldiq4sb2ikags5sfb25/app.bsky.feed.post/3k
echo
echo '== echo {"hello": "world"} | atdata data cid'
echo '{"hello": "world"}' | "$atdata" data cid
