#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the shared-storage tests and the benchmark.
#   bash scripts/pg-test-cluster.sh start     installs postgresql from Debian if missing, initdb into a
#                                             temp folder, starts it on 127.0.0.1; last line: the URL
#   bash scripts/pg-test-cluster.sh restart   pg_ctl restart (tests: the database goes away mid-study)
#   bash scripts/pg-test-cluster.sh stop      stops it and removes the folder
#   bash scripts/pg-test-cluster.sh url       prints the URL of the running cluster
# TRIALBOOK_PG_TEST_DIR (default /tmp/trialbook-pg-test) holds the cluster; TRIALBOOK_PG_TEST_PORT
# (default 55432) the port. postgres refuses to run as root, so as root the server runs as the
# `postgres` user the Debian package creates.
set -euo pipefail
DIR=${TRIALBOOK_PG_TEST_DIR:-/tmp/trialbook-pg-test}
PORT=${TRIALBOOK_PG_TEST_PORT:-55432}
USER_NAME=trialbook
PASSWORD=trialbook-test-pw
DB=trialbook

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"; }

cmd=${1:-start}
case "$cmd" in
  start)
    if ! BIN=$(find_bin); then
      echo "pg-test-cluster: installing postgresql from Debian" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
      BIN=$(find_bin)
    fi
    if [ -f "$DIR/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      url; exit 0
    fi
    rm -rf "$DIR"; mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    # Trust on the socket for setup; password (scram) on TCP, which is what the tests use.
    as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    cat >> "$DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 200
fsync = on
EOF
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
    as_owner "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$PASSWORD'" -c "CREATE DATABASE $DB OWNER $USER_NAME" >/dev/null
    echo "$BIN" > "$DIR/bin"
    url
    ;;
  restart)
    BIN=$(cat "$DIR/bin")
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -m fast -w restart >/dev/null
    ;;
  stop)
    if [ -f "$DIR/bin" ]; then as_owner "$(cat "$DIR/bin")/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$DIR"
    ;;
  url) url ;;
  *) echo "usage: $0 start|restart|stop|url" >&2; exit 2 ;;
esac
