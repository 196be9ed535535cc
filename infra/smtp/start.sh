#!/usr/bin/env bash
# Start the mail catcher (infra/smtp: smtp-server + mailparser) on 127.0.0.1:${SMTP_PORT:-1025},
# with the caught mail on http://127.0.0.1:${SMTP_HTTP_PORT:-8025}. Idempotent: if a catcher
# already answers there, exit 0. Mail is kept in memory only.
#
# Env: SMTP_PORT (1025), SMTP_HTTP_PORT (8025), SMTP_RUN_DIR ($HOME/.cache/analytica/smtp-catcher.run),
#      SMTP_START_TIMEOUT (30 seconds), TSX_BIN (<repo>/node_modules/.bin/tsx).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/smtp/env.sh"

timeout_s="${SMTP_START_TIMEOUT:-30}"
addr="$SMTP_HOST:$SMTP_PORT"

lock_dir "$SMTP_RUN_DIR"

if pid=$(pid_running "$SMTP_PID_FILE" "$SMTP_PID_PATTERN"); then
  if wait_port "$SMTP_HOST" "$SMTP_PORT" "$timeout_s" "$pid"; then
    log "mail catcher already running on $addr (pid $pid); caught mail: http://$SMTP_HOST:$SMTP_HTTP_PORT"
    exit 0
  fi
  show_log_tail "$SMTP_LOG_FILE"
  die "mail catcher pid $pid is running but not listening on $addr; run infra/smtp/stop.sh"
fi
if port_open "$SMTP_HOST" "$SMTP_PORT"; then
  smtp_answers || die "port $SMTP_PORT is in use by something that is not an SMTP server"
  log "an SMTP server already answers on $addr (not started by this script)"
  exit 0
fi
port_open "$SMTP_HOST" "$SMTP_HTTP_PORT" && die "port $SMTP_HTTP_PORT (the mail page) is already in use (set SMTP_HTTP_PORT)"

[[ -x $TSX_BIN ]] || die "tsx not found at $TSX_BIN (run npm install at the repo root)"
[[ -f $SMTP_LOG_FILE ]] && mv -f "$SMTP_LOG_FILE" "$SMTP_LOG_FILE.1"
SMTP_PORT="$SMTP_PORT" PORT="$SMTP_HTTP_PORT" LOG_LEVEL="${LOG_LEVEL:-info}" \
  start_daemon "$SMTP_PID_FILE" "$SMTP_LOG_FILE" "$TSX_BIN" "$REPO_ROOT/infra/smtp/src/main.ts"
pid=$(<"$SMTP_PID_FILE")

if wait_port "$SMTP_HOST" "$SMTP_PORT" "$timeout_s" "$pid" && wait_port "$SMTP_HOST" "$SMTP_HTTP_PORT" 5 "$pid"; then
  log "mail catcher ready on $addr; caught mail: http://$SMTP_HOST:$SMTP_HTTP_PORT"
  exit 0
fi
show_log_tail "$SMTP_LOG_FILE"
stop_daemon "$SMTP_PID_FILE" "$SMTP_PID_PATTERN" "mail catcher" 10 >&2
die "mail catcher did not start on $addr within ${timeout_s}s; log: $SMTP_LOG_FILE"
