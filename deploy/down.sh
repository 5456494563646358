#!/usr/bin/env bash
# Stop what deploy/up.sh started — nginx, the replicas, PostgreSQL — by the pids it wrote,
# then remove its run folder (the read-only copies and the database with it).
# Usage: deploy/down.sh   (MAILLAGE_DEPLOY_RUN: the same run folder as deploy/up.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
RUN="$(realpath -m "${MAILLAGE_DEPLOY_RUN:-$ROOT/deploy/run}")"
say() { echo "[deploy] $*"; }
if [ ! -e "$RUN/.maillage-deploy" ]; then
  say "rien à arrêter : $RUN n'est pas un dossier de deploy/up.sh."
  exit 0
fi

alive() {  # pid: running (a zombie is not)
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
  [ -n "$state" ] && [ "$state" != Z ]
}
stop_pid() {  # pid file, word its command line must hold, first signal
  local file="$1" word="$2" sig="$3" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file" 2>/dev/null)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" \
     && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$word"; then
    kill "-$sig" "$pid" 2>/dev/null
    for _ in $(seq 1 75); do alive "$pid" || break; sleep 0.2; done
    if alive "$pid"; then
      say "le processus $pid ($word) ne s'arrête pas : SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$file"
}

stop_pid "$RUN/nginx/nginx.pid" nginx QUIT
for f in "$RUN"/replica-*/streamlit.pid; do
  [ -e "$f" ] && stop_pid "$f" streamlit TERM
done
if [ -f "$RUN/pg/data/postmaster.pid" ]; then
  PG_BIN="$(cat "$RUN/pg_bin" 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null 2>&1
  else
    "$PG_BIN/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null 2>&1
  fi
fi
chmod -R u+w "$RUN" 2>/dev/null
rm -rf "$RUN"
say "arrêté ; $RUN supprimé."
