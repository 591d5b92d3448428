#!/bin/sh
# Entrypoint of split-knex/postgres:15.
#   ROLE=primary  initdb on first start (trust auth, replication allowed from anywhere)
#   ROLE=replica  pg_basebackup -R from PRIMARY_HOST:PRIMARY_PORT on first start, retrying
#                 until the primary answers; later starts reuse the data directory
#   PGPORT        port to listen on (default 5432). Tests set it to the published host port
#                 so that inet_server_port() names the node as the host sees it.
#   POSTGRES_DB   optional database created on the primary's first start
# Extra arguments are passed to postgres (e.g. `-c fsync=off`); they win over the files.
# `split-knex-postgres --init-template` (run by the Dockerfile) prepares an initdb'd data
# directory in the image, so a primary's first start is a copy rather than an initdb.
# Trust authentication: for tests on a private network only.
set -eu

: "${ROLE:=primary}" "${PGPORT:=5432}" "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA PGPORT

log() { echo "split-knex-postgres[$ROLE]: $*" >&2; }

TEMPLATE=/var/lib/postgresql/template

init_cluster() { # $1 = data directory
  initdb -D "$1" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync >/dev/null
  cat >>"$1/postgresql.conf" <<CONF

# split-knex: replication on, reachable from the container network
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = '1s'
wal_retrieve_retry_interval = '500ms'
max_connections = 200
CONF
  cat >"$1/pg_hba.conf" <<HBA
# split-knex test image: trust on a private network, replication included
local all all trust
local replication all trust
host all all all trust
host replication all all trust
HBA
}

init_primary() {
  if [ -s "$TEMPLATE/PG_VERSION" ]; then
    cp -a "$TEMPLATE/." "$PGDATA/"
  else
    init_cluster "$PGDATA"
  fi
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    postgres --single -D "$PGDATA" postgres >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB";
SQL
  fi
  log "initialized $PGDATA"
}

clone_replica() {
  : "${PRIMARY_HOST:?ROLE=replica needs PRIMARY_HOST}" "${PRIMARY_PORT:=5432}"
  attempt=0
  until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -t 2; do
    attempt=$((attempt + 1))
    [ $((attempt % 20)) -eq 1 ] && log "waiting for the primary at $PRIMARY_HOST:$PRIMARY_PORT"
    sleep 0.5
  done
  # The primary may accept connections before it accepts replication (e.g. while its
  # entrypoint still runs): retry the whole clone until it works.
  until pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -D "$PGDATA" \
        -R -X stream -c fast --no-sync >/dev/null 2>/tmp/basebackup.err; do
    log "pg_basebackup failed, retrying: $(tail -n 1 /tmp/basebackup.err)"
    find "$PGDATA" -mindepth 1 -delete
    sleep 1
  done
  chmod 0700 "$PGDATA"
  log "cloned $PRIMARY_HOST:$PRIMARY_PORT into $PGDATA"
}

if [ "${1:-}" = --init-template ]; then
  init_cluster "$TEMPLATE"
  exit 0
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  case "$ROLE" in
    primary) init_primary ;;
    replica) clone_replica ;;
    *) log "ROLE must be primary or replica, got '$ROLE'"; exit 64 ;;
  esac
fi

# -c port wins over the postgresql.conf a replica copied from its primary.
exec postgres -D "$PGDATA" -c port="$PGPORT" "$@"
