# Settings shared by infra/zipkin/*.sh. Source it after infra/lib.sh.
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this

ZIPKIN_VERSION="${ZIPKIN_VERSION:-3.6.1}"
# Zipkin's own executable jar from Maven Central, kept in the local Maven repository (~/.m2).
ZIPKIN_JAR="${ZIPKIN_JAR:-${HOME:-/root}/.m2/repository/io/zipkin/zipkin-server/$ZIPKIN_VERSION/zipkin-server-$ZIPKIN_VERSION-exec.jar}"
ZIPKIN_HOST=127.0.0.1
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
# Spans live in memory only (a development and test store); this bounds how many are kept.
ZIPKIN_MEM_MAX_SPANS="${ZIPKIN_MEM_MAX_SPANS:-200000}"
ZIPKIN_RUN_DIR="${ZIPKIN_RUN_DIR:-${HOME:-/root}/.cache/analytica/zipkin.run}"
ZIPKIN_PID_FILE="$ZIPKIN_RUN_DIR/zipkin-$ZIPKIN_PORT.pid"
ZIPKIN_LOG_FILE="$ZIPKIN_RUN_DIR/zipkin-$ZIPKIN_PORT.log"
# Only trust a pid whose command line runs this jar on this port.
ZIPKIN_PID_PATTERN="-Dzipkin.analytica.port=$ZIPKIN_PORT"

# zipkin_answers: true if what listens on the port is a Zipkin server (its /health says UP).
zipkin_answers() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
    grep -q "\"UP\"" <&3' "$ZIPKIN_HOST" "$ZIPKIN_PORT" 2>/dev/null
}
