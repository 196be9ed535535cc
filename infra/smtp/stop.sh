#!/usr/bin/env bash
# Stop the mail catcher started by infra/smtp/start.sh (by its pid file). Exit 0 when none runs.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/smtp/env.sh"

[[ -d $SMTP_RUN_DIR ]] || { log "mail catcher is not running (no run dir)"; exit 0; }
lock_dir "$SMTP_RUN_DIR"
stop_daemon "$SMTP_PID_FILE" "$SMTP_PID_PATTERN" "mail catcher" 10
