# Settings shared by infra/kafka/*.sh. Source it after infra/lib.sh.
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this

KAFKA_DIR="$INFRA_DIR/kafka"
# The pom is the single place the version is written; KAFKA_VERSION overrides it.
KAFKA_VERSION="${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_DIR/pom.xml" | head -n1)}"
[[ -n $KAFKA_VERSION ]] || die "no <kafka.version> in $KAFKA_DIR/pom.xml"
# Jars live outside the repo so they survive fresh clones (CI) on the same machine.
KAFKA_HOME_CACHE="${KAFKA_HOME_CACHE:-${HOME:-/root}/.cache/analytica/kafka}"
KAFKA_LIBS="$KAFKA_HOME_CACHE/$KAFKA_VERSION/libs"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-${HOME:-/root}/.cache/analytica/kafka-data}"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
KAFKA_LOG_FILE="$KAFKA_DATA_DIR/kafka.log"
# Marker in the broker's command line, so the pid file is only trusted for a real broker.
KAFKA_PID_PATTERN="kafka.Kafka"

# kafka_tool CLASS ARGS...: run one of Kafka's command-line classes from the cached jars,
# logging warnings only (to stderr) so its output stays readable.
kafka_tool() {
  local cls=$1
  shift
  java -Xmx256m -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2-tools.properties" \
    -cp "$KAFKA_LIBS/*" "$cls" "$@"
}
