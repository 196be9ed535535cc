#!/usr/bin/env bash
# Start dynalite (the DynamoDB API over LevelDB) on 127.0.0.1:${DYNAMODB_PORT:-4567}
# as a background process. Idempotent: if dynalite already answers there, exit 0.
#
# Env: DYNAMODB_PORT (4567), DYNALITE_DATA_DIR ($HOME/.cache/analytica/dynalite-data),
#      DYNALITE_BIN (<repo>/node_modules/.bin/dynalite), DYNALITE_TABLE_MS (0: tables are
#      ACTIVE at once instead of after dynalite's default 500 ms, which would otherwise make
#      AWS SDK waiters sleep their 20 s minimum), DYNALITE_START_TIMEOUT (30 seconds).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/dynalite/env.sh"

timeout_s="${DYNALITE_START_TIMEOUT:-30}"
table_ms="${DYNALITE_TABLE_MS:-0}"
addr="$DYNALITE_HOST:$DYNAMODB_PORT"

lock_dir "$DYNALITE_RUN_DIR"

if pid=$(pid_running "$DYNALITE_PID_FILE" "$DYNALITE_PID_PATTERN"); then
  if wait_port "$DYNALITE_HOST" "$DYNAMODB_PORT" "$timeout_s" "$pid"; then
    log "dynalite already running on $addr (pid $pid)"
    exit 0
  fi
  show_log_tail "$DYNALITE_LOG_FILE"
  die "dynalite pid $pid is running but not listening on $addr; run infra/dynalite/stop.sh"
fi
if port_open "$DYNALITE_HOST" "$DYNAMODB_PORT"; then
  dynalite_answers || die "port $DYNAMODB_PORT is in use by something that is not dynalite"
  log "dynalite already running on $addr (not started by this script)"
  exit 0
fi

[[ -x $DYNALITE_BIN ]] || die "dynalite not found at $DYNALITE_BIN (run npm install at the repo root, or set DYNALITE_BIN)"
command -v node >/dev/null || die "node not found"
mkdir -p "$DYNALITE_DATA_DIR"

[[ -f $DYNALITE_LOG_FILE ]] && mv -f "$DYNALITE_LOG_FILE" "$DYNALITE_LOG_FILE.1"
start_daemon "$DYNALITE_PID_FILE" "$DYNALITE_LOG_FILE" \
  "$DYNALITE_BIN" --host "$DYNALITE_HOST" --port "$DYNAMODB_PORT" --path "$DYNALITE_DATA_DIR" \
  --createTableMs "$table_ms" --deleteTableMs "$table_ms" --updateTableMs "$table_ms"
pid=$(<"$DYNALITE_PID_FILE")

if wait_port "$DYNALITE_HOST" "$DYNAMODB_PORT" "$timeout_s" "$pid" && dynalite_answers; then
  log "dynalite ready on $addr (data in $DYNALITE_DATA_DIR)"
  exit 0
fi
show_log_tail "$DYNALITE_LOG_FILE"
stop_daemon "$DYNALITE_PID_FILE" "$DYNALITE_PID_PATTERN" dynalite 10 >&2
die "dynalite did not start on $addr within ${timeout_s}s; log: $DYNALITE_LOG_FILE"
