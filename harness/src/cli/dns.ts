import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import {
  checkDomain,
  checkSerialLabel,
  namedConf,
  type ZoneDevice,
  type ZoneServer,
  type ZoneSrv,
  zoneFile,
} from '../sztp/dns-zone.ts';
import {
  type SztpTxtKey,
  SztpTxtKeys,
  type SztpTxtValues,
  txtStrings,
} from '../sztp/dns-zone-txt.ts';
import { makeOutput } from './output.ts';

/** Artifact file names in a directory written by the PKI's artifact writer (RFC 8572 names). */
const ARTIFACT_FILES: Record<SztpTxtKey, string> = {
  ci: 'conveyed-information.cms',
  oc: 'owner-certificate.cms',
  ov: 'ownership-voucher.cms',
};

interface ZoneFlags {
  domain: string;
  server: string[];
  srv: string[];
  device: string[];
  deviceFile: string[];
  out: string;
  ttl?: string;
  confDir: string;
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function invalid(message: string): never {
  throw new LabError('INVALID_ARGUMENT', message);
}

function number(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) invalid(`${flag}: "${text}" is not a number`);
  return Number(text);
}

function parseServers(values: string[]): ZoneServer[] {
  return values.map((value) => {
    const eq = value.indexOf('=');
    if (eq <= 0) invalid(`--server "${value}" is not NAME=ADDRESS[,ADDRESS...]`);
    return { name: value.slice(0, eq), addresses: value.slice(eq + 1).split(',') };
  });
}

function parseSrv(values: string[]): ZoneSrv[] {
  return values.map((value) => {
    const [target = '', port, priority, weight, ...rest] = value.split(':');
    if (target === '' || rest.length)
      invalid(`--srv "${value}" is not TARGET[:PORT[:PRIORITY[:WEIGHT]]]`);
    return {
      target,
      ...(port ? { port: number('--srv port', port) } : {}),
      ...(priority ? { priority: number('--srv priority', priority) } : {}),
      ...(weight ? { weight: number('--srv weight', weight) } : {}),
    };
  });
}

async function readArtifact(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new LabError('INVALID_ARGUMENT', `${what}: cannot read ${path}`, { cause: error });
  }
}

/** `--device SERIAL=DIR` (artifact directory) and `--device-file SERIAL:KEY=FILE`. */
async function parseDevices(dirs: string[], files: string[]): Promise<ZoneDevice[]> {
  const bySerial = new Map<string, SztpTxtValues>();
  const entry = (serial: string) => {
    checkSerialLabel(serial);
    const values = bySerial.get(serial) ?? {};
    bySerial.set(serial, values);
    return values;
  };
  for (const value of dirs) {
    const eq = value.indexOf('=');
    if (eq <= 0) invalid(`--device "${value}" is not SERIAL=DIRECTORY`);
    const serial = value.slice(0, eq);
    const dir = value.slice(eq + 1);
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) invalid(`--device ${serial}: ${dir} is not a directory`);
    const values = entry(serial);
    for (const key of SztpTxtKeys) {
      const path = join(dir, ARTIFACT_FILES[key]);
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (exists) values[key] = await readArtifact(path, `device ${serial}`);
    }
  }
  for (const value of files) {
    const match = /^([^:=]+):(ci|oc|ov)=(.+)$/.exec(value);
    if (!match) invalid(`--device-file "${value}" is not SERIAL:ci|oc|ov=FILE`);
    const [, serial = '', key = '', path = ''] = match;
    entry(serial)[key as SztpTxtKey] = await readArtifact(path, `device ${serial}`);
  }
  return [...bySerial].map(([serial, artifacts]) => ({ serial, artifacts }));
}

/** Registers `dns zone`: bind9 configuration for a lab domain with RFC 8572 §4.2 records. */
export function registerDns(program: Command): void {
  const group = program.command('dns').description('DNS for a lab: bind9 zone and configuration');

  group
    .command('zone')
    .description(
      'Write named.conf and the zone file: server addresses, SRV _sztp._tcp and TXT <serial>._sztp',
    )
    .requiredOption('--domain <domain>', 'the lab domain, e.g. lab.example')
    .option(
      '--server <name=ip>',
      'address record(s); repeat, or NAME=IP,IP; "ns" is required',
      collect,
      [],
    )
    .option(
      '--srv <target>',
      'SRV _sztp._tcp entry TARGET[:PORT[:PRIORITY[:WEIGHT]]]; repeatable',
      collect,
      [],
    )
    .option(
      '--device <serial=dir>',
      'TXT record from an artifact directory; repeatable',
      collect,
      [],
    )
    .option(
      '--device-file <serial:key=file>',
      'TXT key from one file (key ci, oc or ov); repeatable',
      collect,
      [],
    )
    .option('--ttl <seconds>', 'TTL of every record (default 300)')
    .option('--conf-dir <dir>', 'where named will find the zone file', '/etc/sztp-lab')
    .requiredOption('--out <dir>', 'directory to write named.conf and <domain>.zone into')
    .option('--json', 'print a JSON document')
    .action(async (flags: ZoneFlags) => {
      const domain = checkDomain(flags.domain);
      const devices = await parseDevices(flags.device, flags.deviceFile);
      const srv = parseSrv(flags.srv);
      const zone = zoneFile({
        domain,
        servers: parseServers(flags.server),
        srv,
        devices,
        ...(flags.ttl === undefined ? {} : { ttl: number('--ttl', flags.ttl) }),
      });
      const zoneName = `${domain}.zone`;
      const conf = namedConf({ domain, zoneFile: `${flags.confDir}/${zoneName}` });
      await mkdir(flags.out, { recursive: true });
      const files = { namedConf: join(flags.out, 'named.conf'), zone: join(flags.out, zoneName) };
      await writeFile(files.namedConf, conf, { mode: 0o644 });
      await writeFile(files.zone, zone, { mode: 0o644 });
      const summary = devices.map((device) => ({
        serial: device.serial,
        name: `${device.serial}._sztp.${domain}`,
        records: Object.fromEntries(
          SztpTxtKeys.filter((key) => device.artifacts[key]).map((key) => {
            const value = device.artifacts[key] ?? Buffer.alloc(0);
            return [key, { octets: value.length, strings: txtStrings(key, value).length }];
          }),
        ),
      }));
      const human = [
        `wrote ${files.namedConf}`,
        `wrote ${files.zone}`,
        ...srv.map((s) => `SRV _sztp._tcp.${domain} -> ${s.target}:${s.port ?? 443}`),
        ...summary.map(
          (d) =>
            `TXT ${d.name}: ${Object.entries(d.records)
              .map(([k, r]) => `${k} ${r.octets} octets in ${r.strings} strings`)
              .join(', ')}`,
        ),
      ].join('\n');
      makeOutput(flags.json ?? false).result({ domain, files, srv, devices: summary }, human);
    });
}
