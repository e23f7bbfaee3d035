#!/usr/bin/env bash
# The local reference PDS (@atproto/pds) and an in-memory PLC directory (@did-plc/server),
# on 127.0.0.1, for atdata's integration tests, examples and demo.
#
#   scripts/pds/pds.sh install   install Node 22 and the servers from npm (once; cached)
#   scripts/pds/pds.sh start     install if needed, start, wait until ready, print env lines
#                                (ATDATA_PDS_URL=…, ATDATA_PLC_URL=…), also kept in $STATE/env
#   scripts/pds/pds.sh stop      stop what start started
#   scripts/pds/pds.sh status    print the env lines if running (exit 1 if not)
#
# Environment:
#   ATDATA_PDS_HOME   install dir (default: ${XDG_CACHE_HOME:-~/.cache}/atdata/pds)
#   ATDATA_PDS_STATE  run dir with data, logs, pid and env files (default: $ATDATA_PDS_HOME/run);
#                     wiped on every start, because the PLC directory lives in memory
#   ATDATA_PDS_PORT (2583), ATDATA_PLC_PORT (2582), ATDATA_PDS_TIMEOUT (60 seconds)
#
# Needs node + npm (any version: Node 22, which the PDS requires, comes from npm) and python3,
# make and g++ for the better-sqlite3 native build. Only the npm registry is contacted.
set -euo pipefail

PDS_VERSION=0.5.35   # @atproto/pds
PLC_VERSION=0.0.1    # @did-plc/server
NODE_VERSION=22.23.3 # node-linux-<arch>, from npm

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOME_DIR=${ATDATA_PDS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/atdata/pds}
STATE=${ATDATA_PDS_STATE:-$HOME_DIR/run}
PDS_PORT=${ATDATA_PDS_PORT:-2583}
PLC_PORT=${ATDATA_PLC_PORT:-2582}
case $(uname -m) in
  x86_64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "pds.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
NODE_DIR=$HOME_DIR/node/node_modules/node-linux-$ARCH
NODE=$NODE_DIR/bin/node
STAMP=$HOME_DIR/.ready-node$NODE_VERSION-pds$PDS_VERSION-plc$PLC_VERSION

say() { echo "pds.sh: $*" >&2; }

install() {
  [[ -f $STAMP ]] && return 0
  command -v npm >/dev/null || { say "npm is needed (apt-get install nodejs npm)"; exit 1; }
  say "installing Node $NODE_VERSION, @atproto/pds $PDS_VERSION, @did-plc/server $PLC_VERSION into $HOME_DIR (first time only, ~3 min)"
  mkdir -p "$HOME_DIR/node" "$HOME_DIR/servers"
  printf '{"private": true}\n' >"$HOME_DIR/node/package.json"
  (cd "$HOME_DIR/node" && npm install --no-audit --no-fund --loglevel=error "node-linux-$ARCH@$NODE_VERSION" >&2)
  printf '{"private": true, "dependencies": {"@atproto/pds": "%s", "@did-plc/server": "%s"}}\n' \
    "$PDS_VERSION" "$PLC_VERSION" >"$HOME_DIR/servers/package.json"
  # npm must run under Node 22 (otherwise it resolves older, Node-20-compatible versions), and
  # better-sqlite3 must compile against Node 22's headers; building from source also skips its
  # attempt to download a prebuilt binary from outside the npm registry.
  (cd "$HOME_DIR/servers" && PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm_config_build_from_source=true npm install --no-audit --no-fund --loglevel=error >&2)
  "$NODE" -e "require('$HOME_DIR/servers/node_modules/better-sqlite3')(':memory:').close()"
  touch "$STAMP"
}

pid_if_running() {
  [[ -f $STATE/pid ]] || return 1
  local pid
  pid=$(cat "$STATE/pid")
  grep -qs serve.mjs "/proc/$pid/cmdline" && echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  install
  # One start at a time: test binaries running in parallel all call `start`, and the first one
  # starts the server while the others wait, then find it running. (The server does not
  # inherit this descriptor; see below.)
  if command -v flock >/dev/null; then
    exec 9>"$HOME_DIR/.start.lock"
    flock 9
  fi
  if pid_if_running >/dev/null; then
    cat "$STATE/env"
    return 0
  fi
  for port in "$PDS_PORT" "$PLC_PORT"; do
    if port_busy "$port"; then say "port $port is already in use"; exit 1; fi
  done
  rm -rf "$STATE" && mkdir -p "$STATE"
  local rotation_key
  rotation_key=$("$NODE" -e "const k=require('crypto').createECDH('secp256k1');k.generateKeys();process.stdout.write(k.getPrivateKey('hex').padStart(64,'0'))")
  # Hostname "localhost" + dev mode: http://localhost:PORT public URL and .test handles.
  env ATDATA_PDS_MODULES="$HOME_DIR/servers/node_modules" PLC_PORT="$PLC_PORT" \
    PDS_PORT="$PDS_PORT" PDS_HOSTNAME=localhost PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
    PDS_JWT_SECRET=atdata-test-jwt-secret PDS_ADMIN_PASSWORD=atdata-admin \
    PDS_DATA_DIRECTORY="$STATE/data" PDS_BLOBSTORE_DISK_LOCATION="$STATE/blobs" \
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="$rotation_key" \
    LOG_ENABLED=true LOG_DESTINATION="$STATE/pds.log" \
    bash -c '
      # Close every inherited descriptor above stderr: a caller holding a lock file open
      # (e.g. `flock FILE pds.sh start`) must not have its lock kept by the long-lived server.
      for fd in /proc/$$/fd/*; do
        n=${fd##*/}
        if [[ $n =~ ^[0-9]+$ ]] && ((n > 2)); then eval "exec $n>&-" 2>/dev/null || true; fi
      done
      exec nohup "$0" "$1"' "$NODE" "$HERE/serve.mjs" >"$STATE/stdout.log" 2>"$STATE/stderr.log" </dev/null &
  local pid=$! waited=0 limit=$((${ATDATA_PDS_TIMEOUT:-60} * 10))
  echo "$pid" >"$STATE/pid"
  until grep -q '^READY ' "$STATE/stdout.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || ((waited >= limit)); then
      say "the PDS did not start; last lines of $STATE/stderr.log:"
      tail -n 30 "$STATE/stderr.log" >&2 || true
      kill "$pid" 2>/dev/null || true
      rm -f "$STATE/pid"
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  local ready
  ready=$(grep -m1 '^READY ' "$STATE/stdout.log")
  read -r _ pds_url plc_url <<<"$ready"
  {
    echo "ATDATA_PDS_URL=$pds_url"
    echo "ATDATA_PLC_URL=$plc_url"
    echo "ATDATA_PDS_ADMIN_PASSWORD=atdata-admin"
  } | tee "$STATE/env"
  say "ready in $((waited / 10)).$((waited % 10)) s (logs in $STATE)"
}

stop() {
  local pid
  if ! pid=$(pid_if_running); then
    rm -f "$STATE/pid"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$STATE/pid"
  say "stopped"
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status)
    if pid_if_running >/dev/null; then cat "$STATE/env"; else say "not running"; exit 1; fi
    ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
