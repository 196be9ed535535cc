#!/usr/bin/env bash
# Starts everything the stack mode and the tests talk to: PostgreSQL and Redis (only if they are
# not already running, as on the project's machines), Apache Kafka (KRaft), dynalite, the mail
# catcher (SMTP on 1025, caught mail on http://127.0.0.1:8025), s3proxy (S3 API on 4569) and Zipkin
# (traces on 9411); installs
# nginx (Debian's package) when it is missing, for stack mode's HTTPS edge, and prometheus for its alerts.
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
# Stack mode's HTTPS edge (dev/src/edge.ts) and its end-to-end tests run NGINX: Debian's package.
if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  log "installing nginx (Debian's package, for stack mode's HTTPS edge)"
  command -v apt-get >/dev/null || die "nginx is not installed and apt-get is missing: install nginx (or set NGINX_BIN)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends nginx >/dev/null || die "apt-get could not install nginx"
  # The package's own service (port 80) is not used: stack mode runs its own nginx.
  command -v systemctl >/dev/null && systemctl disable --now nginx >/dev/null 2>&1 || true
fi
# Browser tests (the gateway's IDE, the reference app) drive Debian's Chromium through playwright-core.
if ! command -v chromium >/dev/null && [[ ! -x /usr/bin/chromium ]]; then
  log "installing chromium (Debian's package, for the browser tests)"
  command -v apt-get >/dev/null || die "chromium is not installed and apt-get is missing: install chromium (or set CHROMIUM_PATH)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null || die "apt-get could not install chromium"
fi
# Stack mode's metrics and alerts (dev/src/prometheus.ts) run Prometheus and test its rules with promtool: Debian's package.
if ! command -v prometheus >/dev/null && [[ ! -x /usr/bin/prometheus ]]; then
  log "installing prometheus (Debian's package, for stack mode's metrics and alerts)"
  command -v apt-get >/dev/null || die "prometheus is not installed and apt-get is missing: install prometheus (or set PROMETHEUS_BIN)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends prometheus >/dev/null || die "apt-get could not install prometheus"
  # The package's own service (port 9090, /var/lib/prometheus) is not used: stack mode runs its own Prometheus.
  command -v systemctl >/dev/null && systemctl disable --now prometheus >/dev/null 2>&1 || true
  [[ -x /etc/init.d/prometheus ]] && /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
"$INFRA_DIR/kafka/start.sh"
"$INFRA_DIR/dynalite/start.sh"
"$INFRA_DIR/smtp/start.sh"
"$INFRA_DIR/s3proxy/start.sh"
# The trace store (Zipkin, in memory) that stack mode's services send their spans to.
"$INFRA_DIR/zipkin/start.sh"
