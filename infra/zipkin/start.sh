#!/usr/bin/env bash
# Start a Zipkin server (the trace store and its API v2, from Maven Central) on
# 127.0.0.1:${ZIPKIN_PORT:-9411} with in-memory storage, as a background process. The services
# send it their OpenTelemetry spans (packages/telemetry); the user subgraph's requestTrace reads
# them back. Idempotent: if a Zipkin already answers there, exit 0. The only download is the first
# fetch of the jar through mvn.
#
# Env: ZIPKIN_PORT (9411), ZIPKIN_VERSION (3.6.1), ZIPKIN_JAR (the jar in ~/.m2),
#      ZIPKIN_MEM_MAX_SPANS (200000), ZIPKIN_HEAP_OPTS (-Xms64m -Xmx384m),
#      ZIPKIN_START_TIMEOUT (90 seconds).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/zipkin/env.sh"

timeout_s="${ZIPKIN_START_TIMEOUT:-90}"
addr="$ZIPKIN_HOST:$ZIPKIN_PORT"
command -v java >/dev/null || die "java not found (Zipkin needs Java 17+)"

lock_dir "$ZIPKIN_RUN_DIR"

# Fetch the jar once (the artifact alone: the exec jar carries its dependencies inside).
if [[ ! -f $ZIPKIN_JAR ]]; then
  command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
  log "fetching Zipkin $ZIPKIN_VERSION with Maven"
  mvn_log="$ZIPKIN_RUN_DIR/mvn-fetch.log"
  if ! (cd "$ZIPKIN_RUN_DIR" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$(dirname "$ZIPKIN_JAR")") >"$mvn_log" 2>&1; then
    cat "$mvn_log" >&2
    die "mvn could not fetch Zipkin $ZIPKIN_VERSION (log: $mvn_log)"
  fi
  [[ -f $ZIPKIN_JAR ]] || die "fetch finished but $ZIPKIN_JAR is missing"
fi

if pid=$(pid_running "$ZIPKIN_PID_FILE" "$ZIPKIN_PID_PATTERN"); then
  if wait_port "$ZIPKIN_HOST" "$ZIPKIN_PORT" "$timeout_s" "$pid" && zipkin_answers; then
    log "Zipkin already running on $addr (pid $pid)"
    exit 0
  fi
  show_log_tail "$ZIPKIN_LOG_FILE"
  die "Zipkin pid $pid is running but not answering on $addr; run infra/zipkin/stop.sh"
fi
if port_open "$ZIPKIN_HOST" "$ZIPKIN_PORT"; then
  zipkin_answers || die "port $ZIPKIN_PORT is in use by something that is not Zipkin"
  log "Zipkin already running on $addr (not started by this script)"
  exit 0
fi

[[ -f $ZIPKIN_LOG_FILE ]] && mv -f "$ZIPKIN_LOG_FILE" "$ZIPKIN_LOG_FILE.1"
# Zipkin reads its settings from the environment (STORAGE_TYPE, QUERY_PORT, ...); the marker
# property only tags the command line for pid_running. Loopback only: traces hold request data.
# shellcheck disable=SC2086 # ZIPKIN_HEAP_OPTS is a list of flags
STORAGE_TYPE=mem MEM_MAX_SPANS="$ZIPKIN_MEM_MAX_SPANS" QUERY_PORT="$ZIPKIN_PORT" \
  COLLECTOR_SCRIBE_ENABLED=false COLLECTOR_KAFKA_ENABLED=false COLLECTOR_RABBITMQ_ENABLED=false \
  COLLECTOR_ACTIVEMQ_ENABLED=false SELF_TRACING_ENABLED=false \
  start_daemon "$ZIPKIN_PID_FILE" "$ZIPKIN_LOG_FILE" \
  java ${ZIPKIN_HEAP_OPTS:--Xms64m -Xmx384m} -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  "$ZIPKIN_PID_PATTERN" -Darmeria.ports[0].ip="$ZIPKIN_HOST" -Darmeria.ports[0].port="$ZIPKIN_PORT" \
  -Darmeria.ports[0].protocols[0]=http \
  -jar "$ZIPKIN_JAR"
pid=$(<"$ZIPKIN_PID_FILE")

if wait_port "$ZIPKIN_HOST" "$ZIPKIN_PORT" "$timeout_s" "$pid" && zipkin_answers; then
  log "Zipkin ready on http://$addr (in-memory, at most $ZIPKIN_MEM_MAX_SPANS spans)"
  exit 0
fi
show_log_tail "$ZIPKIN_LOG_FILE"
stop_daemon "$ZIPKIN_PID_FILE" "$ZIPKIN_PID_PATTERN" Zipkin 10 >&2
die "Zipkin did not start on $addr within ${timeout_s}s; log: $ZIPKIN_LOG_FILE"
