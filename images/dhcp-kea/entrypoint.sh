#!/bin/sh
# Starts kea-dhcp4 and/or kea-dhcp6 with the configuration the lab mounted in /etc/sztp-lab,
# once the lab interface is usable (DHCPv6 cannot bind while the link-local is tentative).
set -eu
. /usr/local/lib/sztp-lab/wait-link.sh
# DHCPv4 alone listens on a raw socket and needs no settled IPv6 address; Docker brings the
# interface up before this script runs, so only DHCPv6 waits (about 1.5 s of DAD).
if [ -f /etc/sztp-lab/kea-dhcp6.conf ]; then wait_link "${SZTP_LAB_IFACE:-eth0}"; fi
pids=""
if [ -f /etc/sztp-lab/kea-dhcp4.conf ]; then
  kea-dhcp4 -c /etc/sztp-lab/kea-dhcp4.conf & pids="$pids $!"
fi
if [ -f /etc/sztp-lab/kea-dhcp6.conf ]; then
  kea-dhcp6 -c /etc/sztp-lab/kea-dhcp6.conf & pids="$pids $!"
fi
[ -n "$pids" ] || { echo "sztp-lab: no kea-dhcp4.conf or kea-dhcp6.conf in /etc/sztp-lab" >&2; exit 2; }
trap 'kill $pids 2>/dev/null' TERM INT
# Exit as soon as one server stops, so that the lab sees the failure.
while :; do
  for pid in $pids; do kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit $?; }; done
  sleep 1
done
