#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: `initdb -A trust` into a directory, started on a
# free loopback port with its socket inside that directory, no other listener.
#
#   scripts/pg-temp.sh start DIR   starts it (or finds it running) and prints its URL
#   scripts/pg-temp.sh stop DIR    stops it and removes DIR
#   scripts/pg-temp.sh url DIR     prints the URL of the server running in DIR
#
# Idempotent: `start` on a directory whose server runs prints the same URL again. Needs
# Debian's `postgresql` (binaries in /usr/lib/postgresql/*/bin), or PG_BIN=DIR naming another
# build's bin directory (scripts/fetch-pgvector-server.sh prints one with pgvector). Run as root, the server runs
# as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|url DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd="$1"
dir="$2"

if [ -z "${PG_BIN:-}" ] && [ -f "$dir/pg_bin" ]; then
  # A server `start`ed with PG_BIN is stopped with the same binaries.
  PG_BIN="$(cat "$dir/pg_bin")"
fi
if [ -n "${PG_BIN:-}" ]; then
  # Another server build, e.g. one with pgvector (scripts/fetch-pgvector-server.sh).
  bin="$PG_BIN"
  if [ ! -x "$bin/initdb" ]; then
    echo "pg-temp: no initdb in PG_BIN=$bin" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$bin/initdb"; then
    echo "pg-temp: the postgres user cannot run $bin/initdb (is a parent directory private, like /root?)" >&2
    exit 1
  fi
else
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg-temp: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
    exit 1
  fi
fi

# Runs a server binary as the postgres user when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url_of() {
  local port
  port="$(cat "$dir/port")"
  echo "postgres://postgres@127.0.0.1:${port}/postgres"
}

running() {
  [ -f "$dir/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    if running; then
      url_of
      exit 0
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      # C.UTF-8: Unicode-aware character classes (the keyword index's tokenizer) without
      # depending on the machine's locales.
      as_pg "$bin/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -D "$dir/data" \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
    fi
    port="$(free_port)"
    echo "$port" >"$dir/port"
    if [ -n "${PG_BIN:-}" ]; then
      echo "$PG_BIN" >"$dir/pg_bin"
    fi
    if ! as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" \
        start >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    url_of
    ;;
  stop)
    if running; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
  url)
    running || {
      echo "pg-temp: no server runs in $dir" >&2
      exit 1
    }
    url_of
    ;;
  *) usage ;;
esac
