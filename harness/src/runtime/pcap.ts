import { LabError } from '../common/errors.ts';

/** One captured frame. */
export interface PcapRecord {
  /** Capture time in microseconds since the epoch. */
  timeUs: number;
  /** The frame as captured (possibly cut to the snap length). */
  data: Buffer;
  originalLength: number;
}

export interface Pcap {
  linkType: number;
  records: PcapRecord[];
}

/** Link type of Ethernet frames (what tcpdump writes for a container's eth0). */
export const LINKTYPE_ETHERNET = 1;

/**
 * Reads a classic libpcap file (microsecond or nanosecond timestamps, either byte order).
 * pcapng is not read: tcpdump writes classic pcap with -w, and so do the lab's captures.
 */
export function readPcap(file: Buffer, where = 'pcap'): Pcap {
  if (file.length < 24)
    throw new LabError(
      'CAPTURE_INVALID',
      `${where}: ${file.length} octets is too short for a pcap header`,
    );
  const magic = file.readUInt32LE(0);
  let little: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    little = true;
    nano = magic === 0xa1b23c4d;
  } else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
    little = false;
    nano = magic === 0x4d3cb2a1;
  } else {
    throw new LabError(
      'CAPTURE_INVALID',
      `${where}: not a pcap file (magic 0x${magic.toString(16)})`,
    );
  }
  const u32 = (offset: number) => (little ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  const linkType = u32(20);
  const records: PcapRecord[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const included = u32(offset + 8);
    const originalLength = u32(offset + 12);
    const end = offset + 16 + included;
    // tcpdump killed mid-write can leave a cut record at the end; what came before stands.
    if (end > file.length) break;
    records.push({
      timeUs: seconds * 1_000_000 + (nano ? Math.floor(fraction / 1000) : fraction),
      data: file.subarray(offset + 16, end),
      originalLength,
    });
    offset = end;
  }
  return { linkType, records };
}
