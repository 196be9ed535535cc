#!/usr/bin/env bash
# Stop the s3proxy started by infra/s3proxy/start.sh (by its pid file).
# Exit 0 when none is running. The objects stay in S3PROXY_DATA_DIR.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/s3proxy/env.sh"

[[ -d $S3PROXY_RUN_DIR ]] || { log "s3proxy is not running (no run dir)"; exit 0; }
lock_dir "$S3PROXY_RUN_DIR"
stop_daemon "$S3PROXY_PID_FILE" "$S3PROXY_PID_PATTERN" s3proxy 15
