# Shared helpers for the infra/*/start.sh and stop.sh scripts. Source it; do not run it.
# Services run as plain background processes tracked by a pid file, so the scripts
# work without Docker, without input, and can be re-run safely (idempotent).

# shellcheck shell=bash disable=SC2016 # bash -c bodies are single-quoted on purpose

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the service scripts
REPO_ROOT="$(cd "$INFRA_DIR/.." && pwd)"

log() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }
die() { err "error: $*"; exit 1; }

# port_open HOST PORT: true if something accepts TCP connections there.
# Uses bash's /dev/tcp so no nc/curl is needed; timeout guards against a hung connect.
port_open() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# alive PID: true if the process exists and is not a zombie. A zombie still passes
# `kill -0` (our own dead child before we exit, or an orphan where PID 1 does not reap).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  # The state follows the last ')' (the command name in parentheses may hold spaces).
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# wait_port HOST PORT SECONDS [PID]: wait until the port accepts connections.
# With PID, give up early if that process dies (no point waiting out the timeout).
wait_port() {
  local host=$1 port=$2 secs=$3 pid=${4:-}
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    port_open "$host" "$port" && return 0
    if [[ -n $pid ]] && ! alive "$pid"; then
      return 1
    fi
    sleep 0.2
  done
  return 1
}

# pid_running PIDFILE PATTERN: true (and prints the pid) if the pid file names a live
# process whose command line contains PATTERN. The pattern check stops us from trusting
# (or killing) an unrelated process that reused a stale pid.
pid_running() {
  local pidfile=$1 pattern=$2 pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern" || return 1
  printf '%s\n' "$pid"
}

# lock_dir DIR: take an exclusive lock for DIR on fd 9 (released when the script exits),
# so two start/stop runs at once cannot race on the same data dir.
lock_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock -w 180 9 || die "could not lock $1 (another start/stop still running?)"
}

# start_daemon PIDFILE LOGFILE CMD...: run CMD detached in its own session (so Ctrl-C or
# a test runner killing our process group does not take it down), output to LOGFILE,
# and record its pid. fd 9 (our lock) is closed for the child so it does not hold it.
start_daemon() {
  local pidfile=$1 logfile=$2
  shift 2
  # A non-interactive script's background child is not a group leader, so setsid
  # execs in place (no fork) and $! is the service's own pid.
  setsid "$@" >>"$logfile" 2>&1 </dev/null 9>&- &
  printf '%s\n' "$!" >"$pidfile"
}

# stop_daemon PIDFILE PATTERN NAME [SECONDS]: SIGTERM the process from the pid file,
# wait for it to exit, SIGKILL after SECONDS. Exit status 0 also when nothing runs.
stop_daemon() {
  local pidfile=$1 pattern=$2 name=$3 secs=${4:-30} pid
  if ! pid=$(pid_running "$pidfile" "$pattern"); then
    rm -f "$pidfile"
    log "$name is not running (no live pid file)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + secs))
  while alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if alive "$pid"; then
    err "$name (pid $pid) did not stop within ${secs}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$pidfile"
  log "$name stopped (pid $pid)"
}

# show_log_tail FILE: on failure, show the end of a service log to make CI failures readable.
show_log_tail() {
  [[ -f $1 ]] || return 0
  err "---- last lines of $1 ----"
  tail -n 40 "$1" >&2 || true
  err "----"
}
