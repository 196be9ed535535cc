# Settings shared by infra/s3proxy/*.sh. Source it after infra/lib.sh.
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this

S3PROXY_DIR="$INFRA_DIR/s3proxy"
S3PROXY_VERSION="${S3PROXY_VERSION:-2.6.0}"
# One self-contained jar from Maven Central, kept in the local Maven repository (~/.m2).
S3PROXY_JAR="${S3PROXY_JAR:-${HOME:-/root}/.m2/repository/org/gaul/s3proxy/$S3PROXY_VERSION/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar}"
S3PROXY_HOST=127.0.0.1
S3PROXY_PORT="${S3PROXY_PORT:-4569}"
# Buckets are folders under the data dir (jclouds' filesystem provider); throwaway test data.
S3PROXY_DATA_DIR="${S3PROXY_DATA_DIR:-${HOME:-/root}/.cache/analytica/s3proxy-data}"
# Pid file, generated config and log beside (not inside) the data dir, keyed by port.
S3PROXY_RUN_DIR="$S3PROXY_DATA_DIR.run"
S3PROXY_PID_FILE="$S3PROXY_RUN_DIR/s3proxy-$S3PROXY_PORT.pid"
S3PROXY_LOG_FILE="$S3PROXY_RUN_DIR/s3proxy-$S3PROXY_PORT.log"
S3PROXY_CONFIG="$S3PROXY_RUN_DIR/s3proxy-$S3PROXY_PORT.properties"
# The dev/test credentials (the same defaults as the stack launcher's S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY).
S3PROXY_IDENTITY="${S3PROXY_IDENTITY:-analytica}"
S3PROXY_CREDENTIAL="${S3PROXY_CREDENTIAL:-analytica-secret}"
# Created at start so the services find it (a bucket is a folder).
S3PROXY_BUCKET="${S3PROXY_BUCKET:-analytica}"
# Only trust a pid whose command line runs s3proxy with this very config.
S3PROXY_PID_PATTERN="--properties $S3PROXY_CONFIG"

# s3proxy_answers: true if what listens on the port answers like an S3 API (an anonymous GET /
# gets an S3 XML error or bucket list), not merely some other server.
s3proxy_answers() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
    grep -qE "<Error>|ListAllMyBucketsResult" <&3' "$S3PROXY_HOST" "$S3PROXY_PORT" 2>/dev/null
}
