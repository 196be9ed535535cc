# Settings shared by infra/smtp/*.sh. Source it after infra/lib.sh.
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this

SMTP_HOST=127.0.0.1
SMTP_PORT="${SMTP_PORT:-1025}"
# The page and JSON API that show the caught mail.
SMTP_HTTP_PORT="${SMTP_HTTP_PORT:-8025}"
SMTP_RUN_DIR="${SMTP_RUN_DIR:-${HOME:-/root}/.cache/analytica/smtp-catcher.run}"
SMTP_PID_FILE="$SMTP_RUN_DIR/smtp-catcher-$SMTP_PORT.pid"
SMTP_LOG_FILE="$SMTP_RUN_DIR/smtp-catcher-$SMTP_PORT.log"
# Only trust a pid whose command line runs the catcher.
SMTP_PID_PATTERN="infra/smtp/src/main.ts"
# tsx comes from the repo's own npm install.
TSX_BIN="${TSX_BIN:-$REPO_ROOT/node_modules/.bin/tsx}"

# smtp_answers: true if what listens on the SMTP port greets like an SMTP server.
smtp_answers() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    head -c 3 <&3 | grep -q 220' "$SMTP_HOST" "$SMTP_PORT" 2>/dev/null
}
