#!/usr/bin/env bash
# Stops what infra/up.sh started for the stack: Kafka, dynalite, the mail catcher, s3proxy and Zipkin.
# PostgreSQL and Redis are left running (they are the machine's own services).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/zipkin/stop.sh"
"$here/s3proxy/stop.sh"
"$here/smtp/stop.sh"
"$here/dynalite/stop.sh"
"$here/kafka/stop.sh"
