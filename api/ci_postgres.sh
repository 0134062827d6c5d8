#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (trust auth, database `test`) before the
# tests run. Called from .ci/run. If none answers, install PostgreSQL from the Debian packages and
# start a throw-away cluster on loopback; initdb and the server run as user postgres, never root.
set -euo pipefail

HOST=127.0.0.1
PORT=5432

if pg_isready -h "$HOST" -p "$PORT" -q 2>/dev/null; then
  echo "postgres: a server answers on $HOST:$PORT"
else
  echo "postgres: no server on $HOST:$PORT; installing one from Debian packages" >&2
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
    as_postgres() { runuser -u postgres -- "$@"; }
  else
    SUDO="sudo"
    as_postgres() { sudo -u postgres "$@"; }
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq postgresql >/dev/null
  BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  DATA=/tmp/ci-pgdata
  $SUDO rm -rf "$DATA"
  $SUDO install -d -o postgres -g postgres "$DATA" /var/run/postgresql
  as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust >/dev/null
  as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-c listen_addresses=$HOST -c port=$PORT -c max_connections=200" start
fi

for _ in $(seq 1 30); do pg_isready -h "$HOST" -p "$PORT" -q && break; sleep 1; done
pg_isready -h "$HOST" -p "$PORT"
psql -h "$HOST" -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h "$HOST" -p "$PORT" -U postgres -c "CREATE DATABASE test"
echo "postgres: ready (postgresql://postgres@$HOST:$PORT/test)"
