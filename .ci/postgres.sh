#!/usr/bin/env bash
# Installs PostgreSQL 15 from Debian's packages and starts a throwaway server
# on loopback for the store tests. Run as root on a fresh Debian machine:
#
#   eval "$(.ci/postgres.sh)"
#
# It prints one line, the export of STEWARD_TEST_POSTGRES_DSN; everything
# else goes to stderr. The server runs as the postgres user with its data in
# a temporary directory, listens on 127.0.0.1 only, and trusts local
# connections (it holds nothing but test databases).
set -euo pipefail

PORT="${STEWARD_TEST_POSTGRES_PORT:-55432}"

log() { echo "postgres.sh: $*" >&2; }

if ! ls /usr/lib/postgresql/15/bin/pg_ctl >/dev/null 2>&1; then
  log "installing postgresql-15"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >&2
fi
BIN=/usr/lib/postgresql/15/bin

DATA="$(mktemp -d /tmp/steward-pg.XXXXXX)"
chown postgres:postgres "$DATA"
chmod 700 "$DATA"
log "initialising a cluster in $DATA"
runuser -u postgres -- "$BIN/initdb" -D "$DATA/data" -A trust -U postgres --no-instructions >&2
log "starting the server on 127.0.0.1:$PORT"
runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA/data" -l "$DATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c max_connections=200" start >&2

for _ in $(seq 1 30); do
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "export STEWARD_TEST_POSTGRES_DSN='host=127.0.0.1 port=$PORT user=postgres dbname=postgres sslmode=disable'"
    exit 0
  fi
  sleep 1
done
log "the server did not become ready; its log:"
cat "$DATA/server.log" >&2
exit 1
