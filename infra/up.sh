#!/usr/bin/env bash
# Starts everything the stack mode and the tests talk to: PostgreSQL and Redis (only if they are
# not already running, as on the project's machines), Apache Kafka (KRaft), dynalite, the mail
# catcher (SMTP on 1025, caught mail on http://127.0.0.1:8025) and s3proxy (S3 API on 4569).
# Idempotent. `infra/down.sh` stops Kafka, dynalite, the mail catcher and s3proxy again.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if ! port_open 127.0.0.1 5432; then
  log "starting PostgreSQL"
  command -v pg_ctlcluster >/dev/null || die "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is not installed"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_port 127.0.0.1 5432 30 || die "PostgreSQL did not start"
fi
if ! port_open 127.0.0.1 6379; then
  log "starting Redis"
  command -v redis-server >/dev/null || die "Redis is not running on 127.0.0.1:6379 and redis-server is not installed"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 127.0.0.1 6379 30 || die "Redis did not start"
fi
"$INFRA_DIR/kafka/start.sh"
"$INFRA_DIR/dynalite/start.sh"
"$INFRA_DIR/smtp/start.sh"
"$INFRA_DIR/s3proxy/start.sh"
