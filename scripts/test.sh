#!/usr/bin/env bash
# Runs the whole test suite: unit, interop-fixture, corpus, property, CLI and doc tests, and the
# integration tests against a real reference PDS on 127.0.0.1 (installed from npm the first
# time into ~/.cache/atdata/pds by scripts/pds/pds.sh, started here, stopped at the end unless
# it was already running).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z ${ATDATA_PDS_URL:-} ]]; then
  if bash scripts/pds/pds.sh status >/dev/null 2>&1; then
    started_here=0
  else
    started_here=1
  fi
  env_lines=$(bash scripts/pds/pds.sh start)
  if ((started_here)); then
    trap 'bash scripts/pds/pds.sh stop' EXIT
  fi
  while IFS='=' read -r name value; do
    [[ $name == ATDATA_* ]] && export "$name=$value"
  done <<<"$env_lines"
fi
echo "test.sh: local PDS at $ATDATA_PDS_URL" >&2

cargo test --workspace --all-features --locked
