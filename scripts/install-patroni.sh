#!/bin/sh
# Installs what the Patroni test lane needs (Debian 12): Patroni 3, etcd 3.4 (server and
# client) and PostgreSQL 15. Idempotent: prints nothing and touches nothing when every
# package is already there. Runs `apt-get update` once, only when something is missing.
# usage: sh scripts/install-patroni.sh            (as root, or with sudo available)
set -eu

PACKAGES="patroni etcd-server etcd-client postgresql-15"

missing=""
for pkg in $PACKAGES; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "install-patroni: installing$missing" >&2
# No service may start from a package's postinst (etcd-server and patroni both try): the tests
# run their own processes. Containers deny it through policy-rc.d; where none exists, add
# one for the duration of the install and remove it afterwards.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-patroni: done" >&2
