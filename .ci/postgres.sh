# PostgreSQL for CI: a fresh database on the running server at 127.0.0.1:5432 when there is one,
# otherwise a throwaway cluster started as an unprivileged user on a unix socket.
#
#   LINLI_CI_THROWAWAY_PG=1   always start the throwaway cluster (even when a server is running)
#   LINLI_CI_PG_PORT=N        its port number (it only names the socket file; default 54329)
PG_URL=""
PG_DB="linli_ci_$$"
PG_TMP=""
PG_BIN=""

_pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Run a PostgreSQL server binary as the unprivileged `postgres` user when we are root.
_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  if [ "${LINLI_CI_THROWAWAY_PG:-0}" != 1 ] && command -v pg_isready >/dev/null \
      && pg_isready -q -h 127.0.0.1 -p 5432; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null
    PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
    echo "PostgreSQL: the running server, database $PG_DB"
    return
  fi
  PG_BIN="$(_pg_bindir)"
  if [ -z "$PG_BIN" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      PG_BIN="$(_pg_bindir)"
    fi
    if [ -z "$PG_BIN" ]; then
      echo "no PostgreSQL available" >&2; return 1
    fi
  fi
  local port="${LINLI_CI_PG_PORT:-54329}"
  PG_TMP="$(mktemp -d /tmp/linli-pg.XXXXXX)"
  if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_TMP"
  fi
  _pg_as_owner "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres -A trust --no-sync -E UTF8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  # No TCP at all (listen_addresses=''), so it can never clash with a server on 5432; the
  # socket lives in the temp dir. fsync off: the cluster is thrown away after the run.
  _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-k $PG_TMP -p $port -c listen_addresses='' -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$PG_TMP/server.log" >&2; return 1; }
  "$PG_BIN/psql" -q -h "$PG_TMP" -p "$port" -U postgres -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null
  PG_URL="postgresql+psycopg://postgres@/$PG_DB?host=$PG_TMP&port=$port"
  echo "PostgreSQL: throwaway cluster in $PG_TMP (socket, port $port), database $PG_DB"
}

stop_postgres() {
  if [ -n "$PG_TMP" ]; then
    _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
    PG_TMP=""
  elif [ -n "$PG_URL" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
  fi
}
