import test from 'ava';
import { readPcap } from '../src/runtime/pcap.ts';
import { dhcpV4FromFrame } from '../src/sztp/dhcp-packet.ts';

/** Builds an Ethernet/IPv4/UDP frame around a BOOTP message, by hand. */
function dhcpFrame(options: number[], file: number[] = []): Buffer {
  const bootp = Buffer.alloc(240);
  bootp[0] = 2; // BOOTREPLY
  Buffer.from([198, 18, 0, 100]).copy(bootp, 16);
  Buffer.from(file).copy(bootp, 108);
  bootp.writeUInt32BE(0x63825363, 236);
  const message = Buffer.concat([bootp, Buffer.from([...options, 255])]);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(67, 0);
  udp.writeUInt16BE(68, 2);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 17;
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, udp, message]);
}

function pcapOf(frames: Buffer[], bigEndian = false): Buffer {
  const header = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, o: number) =>
    bigEndian ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o);
  w32(header, 0xa1b2c3d4, 0);
  w32(header, 1, 20);
  const parts: Buffer[] = [header];
  for (const [i, frame] of frames.entries()) {
    const record = Buffer.alloc(16);
    w32(record, 1700000000 + i, 0);
    w32(record, 250, 4);
    w32(record, frame.length, 8);
    w32(record, frame.length, 12);
    parts.push(record, frame);
  }
  return Buffer.concat(parts);
}

test('pcap files are read in either byte order, and a cut last record is left out', (t) => {
  const frame = dhcpFrame([53, 1, 5]);
  for (const bigEndian of [false, true]) {
    const file = pcapOf([frame, frame], bigEndian);
    const parsed = readPcap(file);
    t.is(parsed.linkType, 1);
    t.is(parsed.records.length, 2);
    t.deepEqual(parsed.records[0]?.data, frame);
    t.is(parsed.records[1]?.timeUs, 1700000001 * 1_000_000 + 250);
    t.is(readPcap(file.subarray(0, file.length - 3)).records.length, 1);
  }
  t.throws(() => readPcap(Buffer.alloc(24), 'x.pcap'), { message: /x\.pcap: not a pcap file/ });
  t.throws(() => readPcap(Buffer.alloc(5), 'y.pcap'), { message: /y\.pcap: 5 octets/ });
});

test('DHCPv4 options are read in order, overloaded file options after the options field', (t) => {
  const frame = dhcpFrame([53, 1, 5, 52, 1, 1, 143, 2, 0xaa, 0xbb], [143, 1, 0xcc, 255]);
  const message = dhcpV4FromFrame(frame);
  t.is(message?.messageType, 5);
  t.is(message?.yiaddr, '198.18.0.100');
  const sztp = message?.options.filter((o) => o.code === 143) ?? [];
  t.deepEqual(
    sztp.map((o) => [o.area, o.value.toString('hex')]),
    [
      ['options', 'aabb'],
      ['file', 'cc'],
    ],
  );
  const notDhcp = Buffer.from(frame);
  notDhcp.writeUInt16BE(53, 14 + 20 + 2);
  t.is(dhcpV4FromFrame(notDhcp), undefined);
});
