# Shell helper shared by the role images: waits until an interface is up and, when it has
# IPv6, until its addresses are no longer tentative (DHCPv6 servers and clients cannot bind
# before that). Gives up after about ten seconds and lets the caller's program report it.
wait_link() {
  i=0
  while [ $i -lt 100 ]; do
    if ip link show "$1" >/dev/null 2>&1 && ! ip -6 addr show dev "$1" | grep -q tentative; then
      return 0
    fi
    i=$((i + 1))
    sleep 0.1
  done
  echo "sztp-lab: interface $1 not ready after 10 s" >&2
}
