#!/bin/sh
# Entrypoint of split-knex/pgbouncer: writes pgbouncer.ini from the environment, then runs
# PgBouncer in the foreground. Every database name maps to DB_HOST:DB_PORT.
#   DB_HOST, DB_PORT      the server (default primary:5432)
#   LISTEN_PORT           default 6432
#   POOL_MODE             default transaction (session|transaction|statement)
#   DEFAULT_POOL_SIZE     server connections per user+database (default 20)
#   MAX_CLIENT_CONN       default 400
#   MIN_POOL_SIZE         server connections kept open per pool (default 0)
#   QUERY_WAIT_TIMEOUT    seconds a client may wait for a server connection (default 120)
#   SERVER_ROUND_ROBIN    1 = hand out idle server connections in turn instead of reusing
#                         the last one (default 0); tests use 1 so that consecutive
#                         statements of one client really land on different backends
#   USERS                 space-separated user names allowed in (default postgres); auth_type
#                         trust still needs each name in the auth_file
# Trust authentication (the servers trust the network too): for tests only.
set -eu
conf=/etc/split-knex/pgbouncer.ini
cat >"$conf" <<INI
[databases]
* = host=$DB_HOST port=$DB_PORT

[pgbouncer]
listen_addr = *
listen_port = $LISTEN_PORT
unix_socket_dir =
auth_type = trust
auth_file = /etc/split-knex/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = $POOL_MODE
max_client_conn = $MAX_CLIENT_CONN
default_pool_size = $DEFAULT_POOL_SIZE
min_pool_size = ${MIN_POOL_SIZE:-0}
server_round_robin = ${SERVER_ROUND_ROBIN:-0}
query_wait_timeout = ${QUERY_WAIT_TIMEOUT:-120}
; Transaction mode: a server connection goes back to the pool after each transaction, so
; nothing may rely on session state; no reset query is needed between clients.
server_reset_query =
; node-postgres sends extra_float_digits; psql may send options.
ignore_startup_parameters = extra_float_digits,options
; DNS of DB_HOST is re-resolved, so a re-created primary container is found again.
dns_max_ttl = 1
server_connect_timeout = 5
server_login_retry = 1
logfile =
pidfile =
INI
: >/etc/split-knex/userlist.txt
for user in ${USERS:-postgres}; do
  printf '"%s" ""\n' "$user" >>/etc/split-knex/userlist.txt
done
exec pgbouncer "$conf"
