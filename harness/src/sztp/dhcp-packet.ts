/**
 * Reads DHCPv4 messages out of captured Ethernet frames, keeping every option instance as it
 * was on the wire, so tests can see how a server split a long option (RFC 3396).
 */
export interface DhcpV4Option {
  code: number;
  value: Buffer;
  /** Which field of the message the instance was in: overloaded options live in file/sname. */
  area: 'options' | 'file' | 'sname';
}

export interface DhcpV4Message {
  /** DHCP message type (option 53): 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK, ... */
  messageType: number | undefined;
  /** The address offered or assigned (yiaddr). */
  yiaddr: string;
  options: DhcpV4Option[];
}

const MAGIC_COOKIE = 0x63825363;

export const DHCP_MESSAGE_TYPES: Record<number, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
};

/** Parses an Ethernet frame carrying IPv4/UDP to or from port 67/68; undefined otherwise. */
export function dhcpV4FromFrame(frame: Buffer): DhcpV4Message | undefined {
  if (frame.length < 14 || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ip = frame.subarray(14);
  if (ip.length < 20 || ip[0] === undefined || ip[0] >> 4 !== 4 || ip[9] !== 17) return undefined;
  const udp = ip.subarray((ip[0] & 0x0f) * 4);
  if (udp.length < 8) return undefined;
  const ports = [udp.readUInt16BE(0), udp.readUInt16BE(2)];
  if (!ports.every((port) => port === 67 || port === 68)) return undefined;
  const bootp = udp.subarray(8);
  if (bootp.length < 240 || bootp.readUInt32BE(236) !== MAGIC_COOKIE) return undefined;
  const options = readOptionArea(bootp.subarray(240), 'options');
  // Option overload (RFC 2131, option 52) moves more options into the `file` and `sname`
  // fields; RFC 3396 joins split options in the order options, file, sname.
  const overload = options.find((option) => option.code === 52)?.value[0] ?? 0;
  if (overload & 1) options.push(...readOptionArea(bootp.subarray(108, 236), 'file'));
  if (overload & 2) options.push(...readOptionArea(bootp.subarray(44, 108), 'sname'));
  const type = options.find((option) => option.code === 53)?.value[0];
  return { messageType: type, yiaddr: [...bootp.subarray(16, 20)].join('.'), options };
}

function readOptionArea(area: Buffer, name: DhcpV4Option['area']): DhcpV4Option[] {
  const options: DhcpV4Option[] = [];
  let offset = 0;
  while (offset < area.length) {
    const code = area[offset] ?? 255;
    if (code === 255) break;
    if (code === 0) {
      offset += 1;
      continue;
    }
    const length = area[offset + 1] ?? 0;
    options.push({ code, value: area.subarray(offset + 2, offset + 2 + length), area: name });
    offset += 2 + length;
  }
  return options;
}
