#!/usr/bin/env bash
# The main job: the `atdata` CLI offline on a real repository export shipped in testdata/, then
# online against a local reference PDS and its PLC directory: create an account, resolve its DID
# and verify its operation log, log in through its DID document (no --pds), publish a small
# dataset (a sample schema and a dataset record whose shard is an uploaded blob), read it back,
# list it, export the repository and verify it, its signature with the key the DID resolves to.
#
# The PDS comes from scripts/pds/pds.sh (installed from npm the first time, ~3 min; it needs
# node and npm). It is stopped at the end if this script started it. With ATDATA_PDS_URL set,
# that server is used instead, with the PLC directory ATDATA_PLC_URL (default
# http://localhost:2582). The demo account gets a random handle and password; the session
# lives in a temporary ATDATA_CONFIG_DIR, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p atdata-cli
atdata=$PWD/target/release/atdata
car=testdata/corpus/repo-stream/car-samples/little.car

step() { printf '\n== %s\n' "$*"; }

step "atdata car inspect $car"
"$atdata" car inspect "$car"
# Its commit is signed by a DID of plc.directory, which is not reachable from here: --offline
# checks everything but the signature (without it, the DID would be resolved for its key).
step "atdata repo verify $car --offline"
"$atdata" repo verify "$car" --offline

# --- online ---------------------------------------------------------------------------------

work=$(mktemp -d)
started_pds=0
cleanup() {
  rm -rf "$work"
  if ((started_pds)); then bash scripts/pds/pds.sh stop; fi
}
trap cleanup EXIT

if [[ -z ${ATDATA_PDS_URL:-} ]]; then
  if ! bash scripts/pds/pds.sh status >/dev/null 2>&1; then started_pds=1; fi
  step "scripts/pds/pds.sh start"
  env_lines=$(bash scripts/pds/pds.sh start)
  ATDATA_PDS_URL=$(sed -n 's/^ATDATA_PDS_URL=//p' <<<"$env_lines")
  ATDATA_PLC_URL=$(sed -n 's/^ATDATA_PLC_URL=//p' <<<"$env_lines")
fi
pds=$ATDATA_PDS_URL
plc=${ATDATA_PLC_URL:-http://localhost:2582}
echo "local PDS at $pds, its PLC directory at $plc"

# The CLI reads the password from ATDATA_PASSWORD (or prompts without echo); it never prints it.
export ATDATA_CONFIG_DIR=$work/config
ATDATA_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export ATDATA_PASSWORD
handle=demo-$((RANDOM * 32768 + RANDOM)).test

# The value of "key" in one line of compact JSON (what the CLI prints when piped).
field() { sed -E "s/.*\"$1\":\"([^\"]*)\".*/\\1/" <<<"$2"; }

step "atdata account create --pds $pds --handle $handle --email ${handle%.test}@example.com"
created=$("$atdata" account create --pds "$pds" --handle "$handle" --email "${handle%.test}@example.com")
echo "$created"
did=$(field did "$created")

# The new identity, as anyone can check it: the DID document the PLC directory serves (the
# handle shows as handle.invalid: .test names have no DNS record here), and the DID's operation
# log, every signature in the chain verified and the document compared with it.
step "atdata resolve $did --plc $plc"
"$atdata" resolve "$did" --plc "$plc"
step "atdata plc log $did --plc $plc"
"$atdata" plc log "$did" --plc "$plc"

# No --pds (nor ATDATA_PDS_URL): the PDS is found through the DID document, and the session
# remembers it for the commands below.
step "atdata login $did --plc $plc  (the PDS found through the DID document)"
login=$(env -u ATDATA_PDS_URL "$atdata" login "$did" --plc "$plc")
echo "$login"
grep -q '"pds_source":"resolved"' <<<"$login"

# The data: three samples as JSON lines, and the schema they follow.
cat >"$work/samples.jsonl" <<'EOF'
{"x": 1, "label": "a"}
{"x": 2, "label": "b"}
{"x": 3, "label": "a"}
EOF
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
cat >"$work/schema.json" <<EOF
{
  "\$type": "ac.foundation.dataset.sampleSchema",
  "name": "labelled-point",
  "version": "1.0.0",
  "description": "A point on a line and its label.",
  "schema": {
    "\$type": "ac.foundation.dataset.sampleSchema#jsonSchema",
    "document": {
      "type": "object",
      "properties": {"x": {"type": "integer"}, "label": {"type": "string"}},
      "required": ["x", "label"]
    }
  },
  "createdAt": "$now"
}
EOF
lexicons=examples/dataset/lexicons

step "atdata lexicon validate --lexicons $lexicons ac.foundation.dataset.sampleSchema schema.json"
"$atdata" lexicon validate --lexicons "$lexicons" ac.foundation.dataset.sampleSchema "$work/schema.json"
step "atdata record create ac.foundation.dataset.sampleSchema schema.json"
schema=$("$atdata" record create ac.foundation.dataset.sampleSchema "$work/schema.json")
echo "$schema"

step "atdata blob upload samples.jsonl"
blob=$("$atdata" blob upload "$work/samples.jsonl")
echo "$blob"

# The dataset: pinned to that exact schema version (a strong reference: URI + CID), its one
# shard the uploaded blob.
cat >"$work/dataset.json" <<EOF
{
  "\$type": "ac.foundation.dataset.record",
  "name": "Labelled points",
  "schema": {"uri": "$(field uri "$schema")", "cid": "$(field cid "$schema")"},
  "storage": {
    "\$type": "ac.foundation.dataset.defs#blobStorage",
    "shards": [{"blob": $blob, "sampleCount": 3}]
  },
  "format": "jsonl",
  "license": "CC0-1.0",
  "sampleCount": 3,
  "createdAt": "$now"
}
EOF
step "atdata lexicon validate --lexicons $lexicons ac.foundation.dataset.record dataset.json"
"$atdata" lexicon validate --lexicons "$lexicons" ac.foundation.dataset.record "$work/dataset.json"
step "atdata record create ac.foundation.dataset.record dataset.json"
dataset=$("$atdata" record create ac.foundation.dataset.record "$work/dataset.json")
echo "$dataset"
dataset_uri=$(field uri "$dataset")

step "atdata record get $dataset_uri"
"$atdata" record get "$dataset_uri"

# The shard back from the PDS, checked against its CID, byte for byte what was uploaded.
shard_cid=$(printf '%s' "$blob" | grep -o '"\$link":"[^"]*"' | head -1 | cut -d'"' -f4)
step "atdata blob get $did $shard_cid -o shard.jsonl  (checked against the CID)"
"$atdata" blob get "$did" "$shard_cid" -o "$work/shard.jsonl"
cmp "$work/samples.jsonl" "$work/shard.jsonl" && echo "the shard matches the uploaded file"
step "atdata record list $did ac.foundation.dataset.sampleSchema"
"$atdata" record list "$did" ac.foundation.dataset.sampleSchema
step "atdata xrpc com.atproto.repo.describeRepo repo=$did  (collections)"
"$atdata" xrpc com.atproto.repo.describeRepo "repo=$did" | grep -o '"collections":\[[^]]*\]'

# The export verified down to its signature: the commit's DID resolved through the local PLC
# directory, and the commit checked with its #atproto key.
step "atdata repo export $did -o repo.car && atdata repo verify repo.car --plc $plc"
"$atdata" repo export "$did" -o "$work/repo.car"
verified=$("$atdata" repo verify "$work/repo.car" --plc "$plc")
echo "$verified"
grep -q '"signature_checked":true' <<<"$verified"
grep -q '"key_source":"resolved"' <<<"$verified"

step "atdata logout"
"$atdata" logout

printf '\npublished:\n  sample schema  %s\n  dataset        %s\n' "$(field uri "$schema")" "$dataset_uri"
