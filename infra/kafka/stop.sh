#!/usr/bin/env bash
# Stop the Kafka broker started by infra/kafka/start.sh (by its pid file).
# Exit 0 when none is running. Data stays in KAFKA_DATA_DIR for a fast next start.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/kafka/env.sh"

[[ -d $KAFKA_DATA_DIR ]] || { log "kafka is not running (no data dir)"; exit 0; }
lock_dir "$KAFKA_DATA_DIR"
# A clean shutdown takes a few seconds (controlled shutdown, log flush); 60s before SIGKILL.
stop_daemon "$KAFKA_PID_FILE" "$KAFKA_PID_PATTERN" kafka 60
