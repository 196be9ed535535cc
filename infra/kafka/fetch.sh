#!/usr/bin/env bash
# Fetch the Kafka broker, tools and log binding jars from Maven Central into
# $KAFKA_HOME_CACHE/<version>/libs. No network at all when that folder is already complete.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
source "$INFRA_DIR/kafka/env.sh"

# The marker records the pom's hash: editing the pom (e.g. a log4j bump) refetches
# even when the Kafka version, and so the folder name, is unchanged.
pom_hash=$(sha256sum "$KAFKA_DIR/pom.xml" | cut -d' ' -f1)
marker="$KAFKA_LIBS/.complete"
if [[ -f $marker && $(<"$marker") == "$pom_hash" ]]; then
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
# Two cold starts at once: the second waits here, then finds the first one's result.
lock_dir "$KAFKA_HOME_CACHE/$KAFKA_VERSION"
if [[ -f $marker && $(<"$marker") == "$pom_hash" ]]; then
  exit 0
fi
# Copy into a temp folder and rename at the end, so an interrupted fetch never
# leaves a half-filled libs folder that looks complete.
tmp=$(mktemp -d "$KAFKA_HOME_CACHE/$KAFKA_VERSION/libs.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS"
# Run from the pom's folder with -f so no other project's .mvn/ config is picked up.
# Maven's output is kept aside and shown only on failure (it is noise otherwise).
mvn_log="$KAFKA_HOME_CACHE/$KAFKA_VERSION/mvn-fetch.log"
if ! (cd "$KAFKA_DIR" && mvn -B -q -f pom.xml \
  -Dkafka.version="$KAFKA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp") >"$mvn_log" 2>&1; then
  cat "$mvn_log" >&2
  die "mvn could not fetch Kafka $KAFKA_VERSION (log: $mvn_log)"
fi
ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "fetch finished but kafka_2.13 jar is missing in $tmp"
printf '%s\n' "$pom_hash" >"$tmp/.complete"
rm -rf "$KAFKA_LIBS"
mv "$tmp" "$KAFKA_LIBS"
trap - EXIT
log "Kafka $KAFKA_VERSION jars ready ($(find "$KAFKA_LIBS" -name "*.jar" | wc -l) jars)"
