#!/bin/sh
# Starts ISC dhcpd for IPv4 and/or IPv6 with the configuration the lab mounted in /etc/sztp-lab.
set -eu
. /usr/local/lib/sztp-lab/wait-link.sh
iface="${SZTP_LAB_IFACE:-eth0}"
# DHCPv4 alone needs no settled IPv6 address (see the Kea image); only DHCPv6 waits.
if [ -f /etc/sztp-lab/dhcpd6.conf ]; then wait_link "$iface"; fi
pids=""
if [ -f /etc/sztp-lab/dhcpd.conf ]; then
  dhcpd -4 -f -d -cf /etc/sztp-lab/dhcpd.conf -lf /var/lib/dhcp/dhcpd.leases "$iface" & pids="$pids $!"
fi
if [ -f /etc/sztp-lab/dhcpd6.conf ]; then
  dhcpd -6 -f -d -cf /etc/sztp-lab/dhcpd6.conf -lf /var/lib/dhcp/dhcpd6.leases "$iface" & pids="$pids $!"
fi
[ -n "$pids" ] || { echo "sztp-lab: no dhcpd.conf or dhcpd6.conf in /etc/sztp-lab" >&2; exit 2; }
trap 'kill $pids 2>/dev/null' TERM INT
while :; do
  for pid in $pids; do kill -0 "$pid" 2>/dev/null || { wait "$pid"; exit $?; }; done
  sleep 1
done
