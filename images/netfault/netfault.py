#!/usr/bin/python3
"""sztp-lab netfault: delay, random loss and corruption of one node's packets, without netem.

The lab's scenario fault `netem` used to put a netem queueing discipline on the node's eth0.
This machine's kernel is built without sch_netem, so the same effects are made from parts it
does have:

  loss        iptables/ip6tables `-m statistic --mode random --probability P -j DROP`: the
              kernel drops each packet with probability P.
  delay       `-j NFQUEUE`: the kernel hands every packet to this program over netlink
  corrupt     (nfnetlink_queue); the program holds it for the delay, in arrival order, and
              then accepts it. A packet chosen for corruption gets one bit flipped after its
              IP header and is handed back changed, so the receiver drops it on a bad TCP,
              UDP or ICMP checksum, as it would a packet netem corrupted.

The program runs in the node's network namespace (the helper container is started with
`--network container:<node>` and NET_ADMIN). Loopback traffic is never touched. Rules cover
the packets the node sends (egress, what netem on eth0 did), the ones it receives (ingress),
or both. The NFQUEUE rule carries --queue-bypass: should the program die, packets pass
undelayed instead of being lost.

It prints one line starting with "ready" once the rules and the queue are in place, and
keeps going until SIGTERM or SIGINT; it then removes its rules, lets the packets it still
holds go, prints what it did and exits 0. Any failure is one line on stderr and exit 1.

Usage: sztp-lab-netfault [--delay-ms MS] [--loss PCT] [--corrupt PCT]
                         [--direction egress|ingress|both] [--queue NUM]
"""

import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import deque

CHAIN = "SZTP-LAB-NETFAULT"
HOOKS = {"egress": [("OUTPUT", "-o")], "ingress": [("INPUT", "-i")]}
HOOKS["both"] = HOOKS["egress"] + HOOKS["ingress"]

# Netlink and nfnetlink_queue constants (linux/netlink.h, linux/netfilter/nfnetlink_queue.h).
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_PACKET = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10
NF_ACCEPT = 1
QUEUE_MAXLEN = 16384


class Stop(Exception):
    """Raised from the signal handler to leave the packet loop."""


def fail(message):
    print(f"netfault: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def parse_args(argv):
    options = {"delay-ms": 0.0, "loss": 0.0, "corrupt": 0.0, "direction": "egress", "queue": 7}
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        name = flag[2:] if flag.startswith("--") else ""
        if name not in options or not args:
            fail(f"unknown option or missing value: {flag}")
        value = args.pop(0)
        if name == "direction":
            if value not in HOOKS:
                fail(f"--direction must be egress, ingress or both, not {value!r}")
            options[name] = value
            continue
        try:
            options[name] = int(value) if name == "queue" else float(value)
        except ValueError:
            fail(f"--{name} needs a number, not {value!r}")
    for name in ("loss", "corrupt"):
        if not 0 <= options[name] <= 100:
            fail(f"--{name} is a percentage (0 to 100), not {options[name]}")
    if options["delay-ms"] < 0:
        fail(f"--delay-ms cannot be negative ({options['delay-ms']})")
    return options


# ---- iptables ------------------------------------------------------------------------------


def iptables(tool, *args, check=True):
    result = subprocess.run([tool, "-w", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        fail(f"{tool} {' '.join(args)} exited {result.returncode}: {' '.join(detail[-2:])}")
    return result.returncode == 0


def remove_rules(tool):
    """Removes this program's chain and every jump to it; quiet when there is none."""
    for hook, side in HOOKS["both"]:
        while iptables(tool, "-D", hook, "!", side, "lo", "-j", CHAIN, check=False):
            pass
    iptables(tool, "-F", CHAIN, check=False)
    iptables(tool, "-X", CHAIN, check=False)


def install_rules(tool, options):
    remove_rules(tool)  # a helper that was killed may have left its chain behind
    iptables(tool, "-N", CHAIN)
    if options["loss"] > 0:
        probability = f"{options['loss'] / 100:.6f}"
        iptables(tool, "-A", CHAIN, "-m", "statistic", "--mode", "random",
                 "--probability", probability, "-j", "DROP")
    if options["delay-ms"] > 0 or options["corrupt"] > 0:
        iptables(tool, "-A", CHAIN, "-j", "NFQUEUE", "--queue-num", str(options["queue"]),
                 "--queue-bypass")
    for hook, side in HOOKS[options["direction"]]:
        iptables(tool, "-I", hook, "1", "!", side, "lo", "-j", CHAIN)


# ---- nfnetlink_queue -----------------------------------------------------------------------


def attribute(kind, value):
    length = 4 + len(value)
    return struct.pack("=HH", length, kind) + value + b"\0" * (-length % 4)


def message(kind, flags, queue, body):
    # nfgenmsg: family (unspecified), version 0, and the queue number in network byte order.
    payload = struct.pack("!BBH", socket.AF_UNSPEC, 0, queue) + body
    return struct.pack("=IHHII", 16 + len(payload), (NFNL_SUBSYS_QUEUE << 8) | kind,
                       NLM_F_REQUEST | flags, 0, 0) + payload


def attributes(data):
    found = {}
    offset = 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return found


def configure(sock, queue, body, what):
    sock.send(message(NFQNL_MSG_CONFIG, NLM_F_ACK, queue, body))
    reply = sock.recv(65536)
    kind = struct.unpack_from("=H", reply, 4)[0]
    if kind == NLMSG_ERROR:
        error = -struct.unpack_from("=i", reply, 16)[0]
        if error:
            fail(f"nfnetlink_queue {what} for queue {queue}: {os.strerror(error)}")


def open_queue(queue):
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    except OSError as error:
        fail(f"cannot open a netfilter netlink socket: {error}")
    sock.bind((0, 0))
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (NET_ADMIN)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    # A full socket buffer means the kernel dropped packets; that is loss, not a reason to stop.
    sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
    bind = struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)
    configure(sock, queue, attribute(NFQA_CFG_CMD, bind), "bind")
    params = attribute(NFQA_CFG_PARAMS, struct.pack("!IB", 0xFFFF, NFQNL_COPY_PACKET))
    params += attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN))
    configure(sock, queue, params, "copy mode")
    return sock


def packets(data):
    """Yields (packet id, payload) for each queued packet in one netlink read."""
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < 16:
            break
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            found = attributes(data[offset + 20:offset + length])
            header = found.get(NFQA_PACKET_HDR)
            if header is not None:
                yield struct.unpack_from("!I", header)[0], found.get(NFQA_PAYLOAD, b"")
        offset += (length + 3) & ~3


def flip_bit(packet):
    """One random bit flipped where the transport checksum covers it (past the IP header)."""
    data = bytearray(packet)
    if not data:
        return packet
    version = data[0] >> 4
    start = (data[0] & 0x0F) * 4 if version == 4 else 40 if version == 6 else 0
    if start >= len(data):
        start = 0
    data[random.randrange(start, len(data))] ^= 1 << random.randrange(8)
    return bytes(data)


def verdict(sock, queue, packet_id, payload=None):
    body = attribute(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))
    if payload is not None:
        body += attribute(NFQA_PAYLOAD, payload)
    try:
        sock.send(message(NFQNL_MSG_VERDICT, 0, queue, body))
    except OSError:
        pass  # the packet is gone (its socket closed, the queue was flushed): nothing to do


def serve(sock, options, counts):
    """Holds each packet for the delay (a FIFO: the delay is constant, so order is kept)."""
    queue = options["queue"]
    delay = options["delay-ms"] / 1000
    corrupt = options["corrupt"] / 100
    held = deque()
    try:
        while True:
            timeout = None if not held else max(0.0, held[0][0] - time.monotonic())
            readable, _, _ = select.select([sock], [], [], timeout)
            if readable:
                while True:
                    try:
                        data = sock.recv(1 << 20, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    now = time.monotonic()
                    for packet_id, payload in packets(data):
                        counts["queued"] += 1
                        changed = None
                        if corrupt and random.random() < corrupt:
                            changed = flip_bit(payload)
                            counts["corrupted"] += 1
                        held.append((now + delay, packet_id, changed))
            now = time.monotonic()
            while held and held[0][0] <= now:
                _, packet_id, changed = held.popleft()
                verdict(sock, queue, packet_id, changed)
    except Stop:
        return held


def main():
    options = parse_args(sys.argv[1:])

    def stop(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    uses_queue = options["delay-ms"] > 0 or options["corrupt"] > 0
    sock = open_queue(options["queue"]) if uses_queue else None
    counts = {"queued": 0, "corrupted": 0}
    held = deque()
    try:
        for tool in ("iptables", "ip6tables"):
            install_rules(tool, options)
        print(f"ready: delay {options['delay-ms']:g} ms, loss {options['loss']:g}%, "
              f"corrupt {options['corrupt']:g}%, {options['direction']}", flush=True)
        if sock is None:
            signal.pause()
        else:
            held = serve(sock, options, counts)
    except Stop:
        pass
    finally:
        for tool in ("iptables", "ip6tables"):
            remove_rules(tool)
    # The rules are gone: what is still held goes out now rather than being dropped.
    for _, packet_id, changed in held:
        verdict(sock, options["queue"], packet_id, changed)
    if sock is not None:
        unbind = struct.pack("!BBH", NFQNL_CFG_CMD_UNBIND, 0, socket.AF_INET)
        sock.send(message(NFQNL_MSG_CONFIG, 0, options["queue"], attribute(NFQA_CFG_CMD, unbind)))
    print(f"stopped: {counts['queued']} packets queued, {counts['corrupted']} corrupted",
          flush=True)


if __name__ == "__main__":
    main()
