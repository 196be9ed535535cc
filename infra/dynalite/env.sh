# Settings shared by infra/dynalite/*.sh. Source it after infra/lib.sh.
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this

# dynalite comes from the repo's own npm install; DYNALITE_BIN points elsewhere if needed.
DYNALITE_BIN="${DYNALITE_BIN:-$REPO_ROOT/node_modules/.bin/dynalite}"
DYNALITE_HOST=127.0.0.1
DYNAMODB_PORT="${DYNAMODB_PORT:-4567}"
# LevelDB store on disk (CI can pass a fresh temp dir here).
DYNALITE_DATA_DIR="${DYNALITE_DATA_DIR:-${HOME:-/root}/.cache/analytica/dynalite-data}"
# Pid file and log sit beside (not inside) the LevelDB folder, keyed by port.
DYNALITE_RUN_DIR="$DYNALITE_DATA_DIR.run"
DYNALITE_PID_FILE="$DYNALITE_RUN_DIR/dynalite-$DYNAMODB_PORT.pid"
DYNALITE_LOG_FILE="$DYNALITE_RUN_DIR/dynalite-$DYNAMODB_PORT.log"
# Only trust a pid whose command line serves this very data dir.
DYNALITE_PID_PATTERN="--path $DYNALITE_DATA_DIR"

# dynalite_answers: true if what listens on the port answers like dynalite
# (a plain GET gets "healthy: dynamodb..."), not merely some other server.
dynalite_answers() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
    grep -q "healthy: dynamodb" <&3' "$DYNALITE_HOST" "$DYNAMODB_PORT" 2>/dev/null
}
