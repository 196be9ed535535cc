#!/usr/bin/env bash
# Stop the Zipkin started by infra/zipkin/start.sh (by its pid file). Exit 0 when none is running.
# Its spans were in memory only and are gone.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/zipkin/env.sh"

[[ -d $ZIPKIN_RUN_DIR ]] || { log "Zipkin is not running (no run dir)"; exit 0; }
lock_dir "$ZIPKIN_RUN_DIR"
stop_daemon "$ZIPKIN_PID_FILE" "$ZIPKIN_PID_PATTERN" Zipkin 15
