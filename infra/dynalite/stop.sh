#!/usr/bin/env bash
# Stop the dynalite started by infra/dynalite/start.sh (by its pid file).
# Exit 0 when none is running. The LevelDB data stays in DYNALITE_DATA_DIR.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/dynalite/env.sh"

[[ -d $DYNALITE_RUN_DIR ]] || { log "dynalite is not running (no run dir)"; exit 0; }
lock_dir "$DYNALITE_RUN_DIR"
stop_daemon "$DYNALITE_PID_FILE" "$DYNALITE_PID_PATTERN" dynalite 10
