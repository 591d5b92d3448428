#!/bin/sh
# Entrypoint of split-knex/haproxy: writes haproxy.cfg from the environment, checks it and
# runs HAProxy in the foreground.
#   NODES           space-separated host:port of every PostgreSQL node, in any role
#                   (default "primary:5432 replica1:5432 replica2:5432")
#   WRITE_PORT      sends only to the node answering pg_is_in_recovery() = f (default 5000)
#   READ_PORT       round-robin over the nodes answering t (default 5001)
#   STATS_PORT      HTTP stats page (default 8404)
#   CHECK_INTERVAL  health check interval (default 1s; a node is down after 2 failures)
#   RESOLVE_TIMEOUT seconds to wait for every node name to resolve before starting (60)
#
# HAProxy's built-in pgsql-check only sees that a server answers, not its role. The checks
# below speak just enough of the PostgreSQL protocol to ask: startup (user postgres,
# database postgres) -> ReadyForQuery -> "select pg_is_in_recovery()" -> expect the DataRow
# 'f' (write) or 't' (read) -> Terminate. They need a check user that gets in without a
# password (trust); with md5/SCRAM use an external-check script running psql instead.
#
# HAProxy 2.6 starts every server UP until its first check says otherwise (init-state only
# came in 3.1): for up to a check interval the write port could reach a replica. A server
# state file loaded at startup marks every server DOWN instead, so each one needs a passing
# role check first. No DNS resolvers at run time for the same reason: a server that
# re-resolves comes back UP without a check. Addresses are resolved once, at startup.
set -eu
: "${NODES:?}" "${WRITE_PORT:=5000}" "${READ_PORT:=5001}" "${STATS_PORT:=8404}" "${CHECK_INTERVAL:=1s}" "${RESOLVE_TIMEOUT:=60}"

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

# Containers of the other nodes may still be starting: their names resolve once they run.
waited=0
for node in $NODES; do
  until getent hosts "${node%%:*}" >/dev/null; do
    [ "$waited" -ge "$RESOLVE_TIMEOUT" ] && { echo "split-knex-haproxy: ${node%%:*} does not resolve" >&2; exit 1; }
    sleep 1
    waited=$((waited + 1))
  done
done

# Every server of both proxies starts DOWN (op_state 0, check health 0); fields per
# HAProxy's server-state file version 1, matched by proxy and server name.
state=/etc/split-knex/haproxy.state
{
  echo 1
  echo '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord'
  for proxy in pg_write pg_read; do
    id=0
    for node in $NODES; do
      id=$((id + 1))
      echo "0 $proxy $id ${node%%:*} - 0 0 1 1 0 1 0 0 6 0 0 0 - ${node##*:} -"
    done
  done
} >"$state"

conf=/etc/split-knex/haproxy.cfg
cat >"$conf" <<CFG
global
    maxconn 4000
    log stderr format short local0 notice
    server-state-file $state

defaults
    mode tcp
    log global
    option dontlognull
    load-server-state-from-file global
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 2s
    default-server inter $CHECK_INTERVAL fall 2 rise 1 on-marked-down shutdown-sessions

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
