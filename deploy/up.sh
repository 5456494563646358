#!/usr/bin/env bash
# Maillage on this machine, N replicas behind a reverse proxy on one shared database:
#   1. a private PostgreSQL on 127.0.0.1 (initdb in the run folder, a random password);
#   2. `maillage data` once, against it (layers and caches in the data folder, registry in
#      the database);
#   3. per replica K, a read-only copy of the prepared data (the data folder without its
#      SQLite file) in RUN/replica-K/data, `chmod -R a-w`;
#   4. N `streamlit run server.py` (app.py and the sign-in cookie routes) on 127.0.0.1:8601…
#      (as `nobody` when started as root: a replica cannot write its copy, nor anything else
#      of the machine);
#   5. nginx on 127.0.0.1:8600 (deploy/nginx.conf.template: websockets, sticky sessions).
# Usage: deploy/up.sh N        — then deploy/down.sh stops and removes everything.
# Settings (environment): MAILLAGE_DATA_DIR (prepared data, default data/),
# MAILLAGE_DEPLOY_RUN (run folder, default deploy/run), MAILLAGE_DEPLOY_PORT (proxy, 8600),
# MAILLAGE_DEPLOY_BASE_PORT (first replica, 8601).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
N="${1:-2}"
if ! [[ "$N" =~ ^[1-9][0-9]?$ ]]; then
  echo "Usage : deploy/up.sh N (nombre de répliques, de 1 à 99)" >&2
  exit 2
fi
RUN="$(realpath -m "${MAILLAGE_DEPLOY_RUN:-$ROOT/deploy/run}")"
PORT="${MAILLAGE_DEPLOY_PORT:-8600}"
BASE_PORT="${MAILLAGE_DEPLOY_BASE_PORT:-8601}"
DATA_SRC="$(realpath -m "${MAILLAGE_DATA_DIR:-$ROOT/data}")"
PY="$ROOT/.venv/bin/python"
export MAILLAGE_DEPLOY_RUN="$RUN"

say() { echo "[deploy] $*"; }
fail() { echo "[deploy] Échec : $*" >&2; exit 1; }

[ -x "$PY" ] || fail "environnement .venv absent : lancez d'abord « make setup »."
if [ -e "$RUN/database_url" ] || compgen -G "$RUN/replica-*/streamlit.pid" >/dev/null \
   || [ -e "$RUN/nginx/nginx.pid" ]; then
  fail "un déploiement tourne déjà dans $RUN : arrêtez-le avec deploy/down.sh."
fi

# --- Debian packages: PostgreSQL and nginx (installed when missing, as root only).
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
NGINX="$(command -v nginx || true)"
[ -n "$NGINX" ] || { [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx; } || need+=(nginx)
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ]; then
    fail "paquets Debian manquants : ${need[*]} (sudo apt-get install -y ${need[*]})."
  fi
  say "installation de ${need[*]} (paquets Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_free() {
  "$PY" -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" \
    2>/dev/null
}
for p in "$PORT" $(seq "$BASE_PORT" $((BASE_PORT + N - 1))); do
  port_free "$p" || fail "le port 127.0.0.1:$p est déjà pris (réglez MAILLAGE_DEPLOY_PORT / \
MAILLAGE_DEPLOY_BASE_PORT)."
done

# Anything started below is stopped again if a later step fails.
started=0
cleanup_on_error() {
  if [ "$started" = 1 ]; then
    echo "[deploy] arrêt de ce qui a démarré (deploy/down.sh)" >&2
    bash "$ROOT/deploy/down.sh" >&2 || true
  fi
}
trap cleanup_on_error EXIT

ROOT_USER=0
[ "$(id -u)" = 0 ] && ROOT_USER=1
mkdir -p "$RUN"
chmod 755 "$RUN"
touch "$RUN/.maillage-deploy"  # deploy/down.sh removes only a folder carrying this mark
started=1

# --- 1. PostgreSQL: a private cluster on 127.0.0.1, password authentication.
as_pg() { if [ "$ROOT_USER" = 1 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PG_DIR="$RUN/pg"
mkdir -p "$PG_DIR"
chmod 700 "$PG_DIR"
PG_PORT="$(free_port)"
PG_PASS="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')"
printf '%s\n' "$PG_PASS" > "$PG_DIR/pwfile"
[ "$ROOT_USER" = 1 ] && chown -R postgres "$PG_DIR"
say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') sur 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A scram-sha-256 \
  --pwfile="$PG_DIR/pwfile" --no-sync >/dev/null
rm -f "$PG_DIR/pwfile"
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
  "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200" \
  start >/dev/null
PGPASSWORD="$PG_PASS" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres maillage
DB_URL="postgresql+psycopg://postgres:$PG_PASS@127.0.0.1:$PG_PORT/maillage"
(umask 077 && printf '%s\n' "$DB_URL" > "$RUN/database_url")
echo "$PG_BIN" > "$RUN/pg_bin"

# --- 2. The data step, once, against the shared database.
say "maillage data (dossier $DATA_SRC, registre dans PostgreSQL) — journal : $RUN/data-step.log"
if ! (umask 077 && MAILLAGE_DATA_DIR="$DATA_SRC" MAILLAGE_DATABASE_URL="$DB_URL" \
     "$PY" -m maillage.cli data > "$RUN/data-step.log" 2>&1); then
  tail -20 "$RUN/data-step.log" >&2
  fail "la préparation des données a échoué (voir $RUN/data-step.log)."
fi
say "  $(grep -E '^Données prêtes' "$RUN/data-step.log" | tail -1)"

# --- 3. and 4. One read-only copy of the prepared data and one Streamlit per replica.
AS_REPLICA=()
if [ "$ROOT_USER" = 1 ]; then
  AS_REPLICA=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
for k in $(seq 1 "$N"); do
  R="$RUN/replica-$k"
  mkdir -p "$R/data" "$R/home"
  tar -C "$DATA_SRC" --exclude='./maillage.db' --exclude='./maillage.db-*' \
      --exclude='./sauvegardes' --exclude='*.tmp' --exclude='.*.tmp*' -cf - . \
    | tar -C "$R/data" -xf -
  chmod -R a+rX "$R/data"
  chmod -R a-w "$R/data"
  [ "$ROOT_USER" = 1 ] && chown nobody:nogroup "$R/home"
  P=$((BASE_PORT + k - 1))
  echo "$P" > "$R/port"
  # The interpreter of .venv must be usable by the replica's user: as root, a Python
  # under /root is not, so the replica then runs as root (the copy stays protected by the
  # read-only check of geo/cache.py, which refuses to write in a folder without write bits).
  as_user=("${AS_REPLICA[@]}")
  if ((${#as_user[@]})) && ! "${as_user[@]}" "$PY" -c '' 2>/dev/null; then
    as_user=()
    [ "$k" = 1 ] && say "Python de .venv illisible pour nobody ($(readlink -f "$PY")) :" \
      "les répliques tournent sous root, copies protégées par geo/cache.py."
  fi
  env MAILLAGE_DATA_DIR="$R/data" MAILLAGE_DATABASE_URL="$DB_URL" MAILLAGE_TRUST_PROXY=1 \
      HOME="$R/home" "${as_user[@]}" "$PY" -m streamlit run server.py \
      --server.headless true --server.address 127.0.0.1 --server.port "$P" \
      --server.fileWatcherType none --browser.gatherUsageStats false \
      > "$R/streamlit.log" 2>&1 < /dev/null &
  echo $! > "$R/streamlit.pid"
done

wait_http() {  # URL, seconds, what: until it answers 200 (bounded)
  "$PY" - "$1" "$2" <<'EOF' || fail "$3 ne répond pas sur $1."
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit(1)
EOF
}
for k in $(seq 1 "$N"); do
  R="$RUN/replica-$k"
  wait_http "http://127.0.0.1:$(cat "$R/port")/_stcore/health" 180 "la réplique $k"
  kill -0 "$(cat "$R/streamlit.pid")" 2>/dev/null || fail "la réplique $k s'est arrêtée."
done
say "$N réplique(s) prête(s) (${SECONDS} s depuis le début)"

# --- 5. nginx.
mkdir -p "$RUN/nginx/tmp"
SERVERS=""
for k in $(seq 1 "$N"); do
  SERVERS+="        server 127.0.0.1:$((BASE_PORT + k - 1)) max_fails=1 fail_timeout=10s;"$'\n'
done
USER_LINE=""
if [ "$ROOT_USER" = 1 ]; then
  USER_LINE="user nobody nogroup;"
  chown -R nobody:nogroup "$RUN/nginx/tmp"
fi
"$PY" - "$ROOT/deploy/nginx.conf.template" "$RUN/nginx/nginx.conf" "$RUN" "$PORT" \
  "$USER_LINE" "$SERVERS" <<'EOF'
import sys
src, dst, run, port, user, servers = sys.argv[1:7]
text = open(src, encoding="utf-8").read()
for name, value in {"@RUN@": run, "@PORT@": port, "@USER@": user,
                    "@SERVERS@": servers.rstrip("\n")}.items():
    text = text.replace(name, value)
open(dst, "w", encoding="utf-8").write(text)
EOF
"$NGINX" -t -q -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log"
"$NGINX" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" -e "$RUN/nginx/error.log"
wait_http "http://127.0.0.1:$PORT/_stcore/health" 30 "nginx"

started=0
trap - EXIT
say "Maillage : http://127.0.0.1:$PORT ($N réplique(s) sur 127.0.0.1:$BASE_PORT…$((BASE_PORT + N - 1)),"
say "  base PostgreSQL partagée, URL dans $RUN/database_url). Arrêt : deploy/down.sh"
