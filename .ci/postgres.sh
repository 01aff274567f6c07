# PostgreSQL for CI: a fresh database on the running server at 127.0.0.1:5432 when there is one,
# otherwise a throwaway cluster started as an unprivileged user on a unix socket.
PG_URL=""
PG_DB="linli_ci_$$"
PG_TMP=""

start_postgres() {
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null
    PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
    return
  fi
  local bindir
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$bindir" ]; then
    if command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    else
      echo "no PostgreSQL available" >&2; return 1
    fi
  fi
  PG_TMP="$(mktemp -d /tmp/linli-pg.XXXXXX)"
  local run_as=()
  if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_TMP"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bindir/initdb" -D "$PG_TMP/data" -U postgres -A trust >/dev/null
  "${run_as[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data" -o "-k $PG_TMP -c listen_addresses=''" -w start >/dev/null
  "$bindir/psql" -q -h "$PG_TMP" -U postgres -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null
  PG_URL="postgresql+psycopg://postgres@/$PG_DB?host=$PG_TMP"
}

stop_postgres() {
  if [ -n "$PG_TMP" ]; then
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$bindir/pg_ctl" -D "$PG_TMP/data" -m fast stop >/dev/null || true
    else
      "$bindir/pg_ctl" -D "$PG_TMP/data" -m fast stop >/dev/null || true
    fi
    rm -rf "$PG_TMP"
  elif [ -n "$PG_URL" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
  fi
}
