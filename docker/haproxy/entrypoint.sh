#!/bin/sh
# Entrypoint of split-knex/haproxy: writes haproxy.cfg from the environment, checks it and
# runs HAProxy in the foreground.
#   NODES           space-separated host:port of every PostgreSQL node, in any role
#                   (default "primary:5432 replica1:5432 replica2:5432")
#   WRITE_PORT      sends only to the node answering pg_is_in_recovery() = f (default 5000)
#   READ_PORT       round-robin over the nodes answering t (default 5001)
#   STATS_PORT      HTTP stats page (default 8404)
#   CHECK_INTERVAL  health check interval (default 1s; a node is down after 2 failures)
#
# HAProxy's built-in pgsql-check only sees that a server answers, not its role. The checks
# below speak just enough of the PostgreSQL protocol to ask: startup (user postgres,
# database postgres) -> ReadyForQuery -> "select pg_is_in_recovery()" -> expect the DataRow
# 'f' (write) or 't' (read) -> Terminate. They need a check user that gets in without a
# password (trust); with md5/SCRAM use an external-check script running psql instead.
set -eu
: "${NODES:?}" "${WRITE_PORT:=5000}" "${READ_PORT:=5001}" "${STATS_PORT:=8404}" "${CHECK_INTERVAL:=1s}"

STARTUP=00000048000300007573657200706f73746772657300646174616261736500706f737467726573006170706c69636174696f6e5f6e616d6500686170726f78792d636865636b0000
READY=5a0000000549
QUERY=510000001f73656c6563742070675f69735f696e5f7265636f76657279282900
ROW_F=440000000b00010000000166
ROW_T=440000000b00010000000174
TERMINATE=5800000004

servers() {
  for node in $NODES; do
    echo "    server ${node%%:*} $node check"
  done
}

checks() { # $1 = the DataRow to expect
  cat <<CHECK
    option tcp-check
    tcp-check connect
    tcp-check send-binary $STARTUP
    tcp-check expect binary $READY
    tcp-check send-binary $QUERY
    # min-recv 75 = the whole reply (RowDescription 43 + DataRow 12 + CommandComplete 14 +
    # ReadyForQuery 6): the wrong role fails at once instead of waiting for the timeout.
    tcp-check expect min-recv 75 binary $1
    tcp-check send-binary $TERMINATE
CHECK
}

conf=/etc/split-knex/haproxy.cfg
cat >"$conf" <<CFG
global
    maxconn 4000
    log stderr format short local0 notice

# Docker's embedded DNS: servers are found again when their containers restart, and a
# node that does not exist yet at startup only starts DOWN.
resolvers docker
    parse-resolv-conf
    hold valid 1s
    hold obsolete 1s

defaults
    mode tcp
    log global
    option dontlognull
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 2s
    default-server inter $CHECK_INTERVAL fall 2 rise 1 on-marked-down shutdown-sessions init-addr last,libc,none resolvers docker

listen pg_write
    bind *:$WRITE_PORT
$(checks $ROW_F)
$(servers)

listen pg_read
    bind *:$READ_PORT
    balance roundrobin
$(checks $ROW_T)
$(servers)

listen stats
    mode http
    bind *:$STATS_PORT
    stats enable
    stats uri /
    stats refresh 5s
CFG
haproxy -c -q -f "$conf"
exec haproxy -db -f "$conf"
