import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { leaf } from '../src/device/config-store.ts';
import type { DeviceEvent } from '../src/device/events.ts';
import type { PersistentState } from '../src/device/state.ts';
import { execOk } from '../src/runtime/containers.ts';
import { buildImages } from '../src/runtime/images.ts';
import { type SztpLab, type SztpLabOptions, startSztpLab } from './helpers/sztp-lab.ts';

test.before(async () => {
  await buildImages({ only: ['server', 'device', 'dhcp-kea', 'web', 'dns'] });
});

const b64 = (text: string) => Buffer.from(text).toString('base64');
const CONFIG = b64('<configuration><system><host-name>r1</host-name></system></configuration>');

function onboarding(
  serial: string,
  info: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  // The module ties the two leaves together: a configuration always says how to apply it.
  const full =
    info.configuration && !info['configuration-handling']
      ? { ...info, 'configuration-handling': 'merge' }
      : info;
  return { devices: { [serial]: { onboarding: full, reportingLevel: 'verbose', ...extra } } };
}

async function withLab(
  options: SztpLabOptions,
  body: (lab: SztpLab) => Promise<void>,
): Promise<void> {
  const lab = await startSztpLab(options);
  try {
    await body(lab);
  } catch (error) {
    const tail = lab
      .events()
      .slice(-15)
      .map((e) => JSON.stringify(e).slice(0, 300))
      .join('\n');
    throw new Error(`${(error as Error).message}\n--- device events ---\n${tail}`);
  } finally {
    await lab.dispose();
  }
}

function state(lab: SztpLab): PersistentState {
  return JSON.parse(readFileSync(join(lab.stateDir, 'state.json'), 'utf8')) as PersistentState;
}

const kinds = (events: DeviceEvent[]) => events.map((e) => e.kind);
const reportTypes = (events: DeviceEvent[]) =>
  events.filter((e) => e.kind === 'progress-report').map((e) => e.type);

const complete = (e: DeviceEvent) => e.kind === 'bootstrap-complete';

test.serial('docker: device bootstraps over DHCPv4 from a trusted server', async (t) => {
  await withLab(
    {
      records: (f) =>
        onboarding(f.serial, { configuration: CONFIG, 'configuration-handling': 'merge' }),
    },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete');
      const events = lab.events();
      const lease = events.find((e) => e.kind === 'dhcp-lease');
      t.regex(
        String(lease?.address),
        /^198\.1[89]\.\d+\.(1\d\d|200)$/,
        'address from the DHCP pool',
      );
      t.deepEqual(lease?.servers, [`${lab.serverV4}:8443`]);
      t.is(events.find((e) => e.kind === 'bootstrap-request')?.tls, 'authenticated');
      // Verbose reporting, in RFC order, each acknowledged with 204.
      t.deepEqual(reportTypes(events), [
        'bootstrap-initiated',
        'parsing-initiated',
        'parsing-complete',
        'config-initiated',
        'config-complete',
        'bootstrap-complete',
      ]);
      t.true(events.filter((e) => e.kind === 'progress-report').every((e) => e.status === 204));
      const final = state(lab);
      t.false(final.sztpEnabled, 'the SZTP flag is cleared');
      t.is(leaf(final.config.running, 'system/host-name'), 'r1');
      // The server's own log of progress reports agrees, host keys included.
      const progress = (await lab.progress()) as {
        progressType?: string;
        sshHostKeys?: unknown[];
      }[];
      t.deepEqual(
        progress.map((p) => p.progressType),
        reportTypes(events),
      );
      t.is(progress.at(-1)?.sshHostKeys?.length, 1);
    },
  );
});

test.serial('docker: device bootstraps over DHCPv6 (option 136)', async (t) => {
  await withLab(
    {
      dhcp: 6,
      records: (f) =>
        onboarding(f.serial, { configuration: CONFIG }, { reportingLevel: 'minimal' }),
    },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete');
      const events = lab.events();
      t.deepEqual(events.find((e) => e.kind === 'dhcp-lease')?.servers, [`${lab.serverV6}:8443`]);
      // Minimal reporting: only what the RFC requires at every level.
      t.deepEqual(reportTypes(events), ['bootstrap-initiated', 'bootstrap-complete']);
    },
  );
});

test.serial('docker: device finds its bootstrap server through DNS SRV', async (t) => {
  await withLab(
    { dhcp: 'none', dns: true, records: (f) => onboarding(f.serial, { configuration: CONFIG }) },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete');
      const answer = lab.events().find((e) => e.kind === 'dns-answer');
      t.deepEqual(answer?.srv, ['bootstrap.sztp-lab.test:8443']);
      const request = lab.events().find((e) => e.kind === 'bootstrap-request');
      t.regex(String(request?.server), /^bootstrap\.sztp-lab\.test:8443/);
    },
  );
});

test.serial(
  'docker: untrusted server promotes the device with signed redirect information (Appendix B)',
  async (t) => {
    await withLab(
      {
        trustServers: false,
        records: (f) => onboarding(f.serial, { configuration: CONFIG }, { untrusted: 'promote' }),
      },
      async (lab) => {
        await lab.waitFor(complete, 'bootstrap-complete');
        const events = lab.events();
        const requests = events.filter((e) => e.kind === 'bootstrap-request');
        t.deepEqual(
          requests.map((e) => e.tls),
          ['provisional', 'authenticated'],
        );
        const infos = events.filter((e) => e.kind === 'conveyed-information');
        t.like(infos[0], { type: 'redirect-information', signed: true, trustedServer: false });
        t.like(infos[1], { type: 'onboarding-information', signed: false, trustedServer: true });
        t.like(
          events.find((e) => e.kind === 'redirect'),
          { depth: 1, trusted: true },
        );
        t.true(reportTypes(events).includes('bootstrap-complete'));
      },
    );
  },
);

test.serial('docker: image upgrade, reboot, and a second pass that does not reboot', async (t) => {
  await withLab(
    {
      images: { 'junos-24.2R1.tgz': '24.2R1' },
      records: (f) =>
        onboarding(f.serial, {
          'boot-image': {
            'os-name': 'Junos',
            'os-version': '24.2R1',
            'download-uri': [f.images['junos-24.2R1.tgz']?.uri],
            'image-verification': [
              {
                'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256',
                'hash-value': f.images['junos-24.2R1.tgz']?.hash,
              },
            ],
          },
          configuration: CONFIG,
        }),
    },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete after the reboot', 90_000);
      const events = lab.events();
      const boots = events.filter((e) => e.kind === 'boot');
      t.deepEqual(
        boots.map((e) => [e.slot, e.image]),
        [
          ['a', 'Junos 23.4R1'],
          ['b', 'Junos 24.2R1'],
        ],
      );
      t.is(events.filter((e) => e.kind === 'reboot').length, 1);
      t.truthy(
        events.find((e) => e.kind === 'boot-image-current'),
        'the second pass finds the image',
      );
      const types = reportTypes(events);
      t.true(types.includes('boot-image-mismatch'));
      t.true(types.includes('boot-image-installed-rebooting'));
      t.is(types.filter((x) => x === 'bootstrap-initiated').length, 2);
      t.true(
        types.indexOf('boot-image-complete') > types.indexOf('boot-image-installed-rebooting'),
      );
      const final = state(lab);
      t.is(final.active, 'b');
      t.like(final.slots.b, { osName: 'Junos', osVersion: '24.2R1' });
    },
  );
});

test.serial('docker: an image whose SHA-256 does not match is refused', async (t) => {
  await withLab(
    {
      images: { 'junos-24.2R1.tgz': '24.2R1' },
      records: (f) =>
        onboarding(f.serial, {
          'boot-image': {
            'os-name': 'Junos',
            'os-version': '24.2R1',
            'download-uri': [f.images['junos-24.2R1.tgz']?.uri],
            'image-verification': [
              {
                'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256',
                'hash-value': Array(32).fill('ab').join(':'),
              },
            ],
          },
        }),
    },
    async (lab) => {
      await lab.waitFor((e) => e.kind === 'boot-image-error', 'boot-image-error');
      await lab.waitFor(
        (e) => e.kind === 'progress-report' && e.type === 'boot-image-error',
        'the report',
      );
      const events = lab.events();
      t.truthy(events.find((e) => e.kind === 'image-hash-mismatch'));
      t.false(kinds(events).includes('reboot'));
      t.false(kinds(events).includes('bootstrap-complete'));
      t.is(state(lab).slots.b, null, 'nothing was installed');
      const progress = (await lab.progress()) as { progressType?: string }[];
      t.true(progress.some((p) => p.progressType === 'boot-image-error'));
    },
  );
});

test.serial(
  'docker: a failing sh pre-configuration script stops onboarding before the configuration',
  async (t) => {
    await withLab(
      {
        records: (f) =>
          onboarding(f.serial, {
            'pre-configuration-script': b64('#!/bin/sh\necho "pre-check failed" >&2\nexit 3\n'),
            configuration: CONFIG,
          }),
      },
      async (lab) => {
        await lab.waitFor(
          (e) => e.kind === 'progress-report' && e.type === 'pre-script-error',
          'pre-script-error',
        );
        const events = lab.events();
        t.like(
          events.find((e) => e.kind === 'script'),
          {
            which: 'pre-configuration-script',
            exitCode: 3,
            verdict: 'error',
            interpreter: '/bin/sh',
          },
        );
        t.false(kinds(events).includes('config-committed'));
        t.true(state(lab).sztpEnabled, 'SZTP stays enabled and starts again');
        const error = events.find(
          (e) => e.kind === 'progress-report' && e.type === 'pre-script-error',
        );
        t.regex(String(error?.message), /pre-check failed/);
      },
    );
  },
);

test.serial('docker: a failing python script is ignored under the junos profile', async (t) => {
  await withLab(
    {
      records: (f) =>
        onboarding(f.serial, {
          configuration: CONFIG,
          'post-configuration-script': b64(
            '#!/usr/bin/python\nimport sys\nprint("python says no")\nsys.exit(1)\n',
          ),
        }),
    },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete');
      const script = lab.events().find((e) => e.kind === 'script');
      t.like(script, { exitCode: 1, verdict: 'ok', interpreter: '/usr/bin/python3' });
      t.regex(String(script?.note), /not checked under the junos profile/);
      t.is(leaf(state(lab).config.running, 'system/host-name'), 'r1');
    },
  );
});

test.serial(
  'docker: a failing post-configuration script rolls the configuration back',
  async (t) => {
    await withLab(
      {
        records: (f) =>
          onboarding(f.serial, {
            configuration: CONFIG,
            'post-configuration-script': b64('#!/bin/sh\nexit 1\n'),
          }),
      },
      async (lab) => {
        await lab.waitFor(
          (e) => e.kind === 'progress-report' && e.type === 'post-script-error',
          'post-script-error',
        );
        const events = lab.events();
        t.true(kinds(events).indexOf('config-committed') < kinds(events).indexOf('rollback'));
        t.like(
          events.find((e) => e.kind === 'rollback'),
          { to: 'before the pre-configuration script' },
        );
        const final = state(lab);
        t.is(final.config.running, '<configuration/>');
        t.is(leaf(final.config.history[0] ?? '<configuration/>', 'system/host-name'), 'r1');
        t.true(final.sztpEnabled);
      },
    );
  },
);

test.serial('docker: a voucher with a corrupted signature is refused', async (t) => {
  await withLab(
    {
      trustServers: false,
      faults: [{ kind: 'corrupt-signature', artifact: 'ownership-voucher' }],
      records: (f) =>
        onboarding(f.serial, { configuration: CONFIG }, { untrusted: 'signed', signed: true }),
    },
    async (lab) => {
      const failed = await lab.waitFor(
        (e) => e.kind === 'verification-failed',
        'verification-failed',
      );
      t.is(failed.code, 'VOUCHER_SIGNATURE_INVALID');
      const events = lab.events();
      t.false(kinds(events).includes('onboarding-start'));
      t.is(reportTypes(events).length, 0, 'no reports to an untrusted server');
      t.is(state(lab).config.running, '<configuration/>');
    },
  );
});

test.serial('docker: a voucher minted for another serial number is refused', async (t) => {
  await withLab(
    {
      trustServers: false,
      faults: [{ kind: 'other-voucher', value: 'SN-SOMEONE-ELSE' }],
      records: (f) =>
        onboarding(f.serial, { configuration: CONFIG }, { untrusted: 'signed', signed: true }),
    },
    async (lab) => {
      const failed = await lab.waitFor(
        (e) => e.kind === 'verification-failed',
        'verification-failed',
      );
      t.is(failed.code, 'VOUCHER_SERIAL_MISMATCH');
      t.regex(String(failed.message), /SN-SOMEONE-ELSE/);
      t.is(state(lab).config.running, '<configuration/>');
    },
  );
});

test.serial('docker: signed onboarding information on removable storage is accepted', async (t) => {
  await withLab(
    {
      dhcp: 'none',
      usb: { info: { configuration: CONFIG, 'configuration-handling': 'replace' }, sign: true },
      records: (f) => ({ devices: { [`${f.serial}-UNUSED`]: { onboarding: {} } } }),
    },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete');
      const events = lab.events();
      t.like(
        events.find((e) => e.kind === 'conveyed-information'),
        { from: 'removable storage', signed: true, trustedServer: false },
      );
      t.is(reportTypes(events).length, 0, 'nobody to report to');
      t.is(leaf(state(lab).config.running, 'system/host-name'), 'r1');
    },
  );
});

test.serial(
  'docker: onboarding information encrypted to the IDevID is decrypted in the TPM',
  async (t) => {
    await withLab(
      {
        dhcp: 'none',
        usb: {
          info: { configuration: CONFIG, 'configuration-handling': 'merge' },
          sign: true,
          encrypt: true,
        },
        records: (f) => ({ devices: { [`${f.serial}-UNUSED`]: { onboarding: {} } } }),
      },
      async (lab) => {
        await lab.waitFor(complete, 'bootstrap-complete');
        t.like(
          lab.events().find((e) => e.kind === 'conveyed-information'),
          { from: 'removable storage', signed: true, encrypted: true },
        );
        t.is(leaf(state(lab).config.running, 'system/host-name'), 'r1');
      },
    );
  },
);

test.serial(
  'docker: unsigned onboarding information from an untrusted source is refused',
  async (t) => {
    await withLab(
      {
        dhcp: 'none',
        usb: { info: { configuration: CONFIG, 'configuration-handling': 'merge' }, sign: false },
        records: (f) => ({ devices: { [`${f.serial}-UNUSED`]: { onboarding: {} } } }),
      },
      async (lab) => {
        const refused = await lab.waitFor(
          (e) => e.kind === 'onboarding-refused',
          'onboarding-refused',
        );
        t.is(refused.code, 'UNSIGNED_ONBOARDING_FROM_UNTRUSTED');
        t.false(kinds(lab.events()).includes('config-committed'));
        t.true(state(lab).sztpEnabled);
      },
    );
  },
);

test.serial(
  'docker: zeroize returns to factory default and the device bootstraps again',
  async (t) => {
    await withLab(
      {
        records: (f) =>
          onboarding(f.serial, { configuration: CONFIG }, { reportingLevel: 'minimal' }),
      },
      async (lab) => {
        await lab.waitFor(complete, 'the first bootstrap');
        const idevid = readFileSync(join(lab.stateDir, 'idevid.pem'), 'utf8');
        await execOk(lab.device, [
          'node',
          '/opt/sztp-lab/harness/bin/sztp-lab.js',
          'device',
          'zeroize',
        ]);
        t.true(state(lab).sztpEnabled);
        t.is(state(lab).config.running, '<configuration/>');
        await lab.powerCycle();
        await lab.waitFor(
          (e) => e.kind === 'bootstrap-complete' && lab.events().filter(complete).length >= 2,
          'the second bootstrap',
        );
        const events = lab.events();
        t.is(events.filter((e) => e.kind === 'factory-csr').length, 1, 'the IDevID is kept');
        t.is(readFileSync(join(lab.stateDir, 'idevid.pem'), 'utf8'), idevid);
        t.is(leaf(state(lab).config.running, 'system/host-name'), 'r1');
        t.is((await lab.progress()).length, 4, 'two minimal report pairs');
      },
    );
  },
);

test.serial('docker: the identity key never leaves the TPM', async (t) => {
  await withLab(
    { records: (f) => onboarding(f.serial, { configuration: CONFIG }) },
    async (lab) => {
      await lab.waitFor(complete, 'bootstrap-complete');
      const out = await execOk(lab.device, [
        'sh',
        '-c',
        'export DBUS_SESSION_BUS_ADDRESS=$(cat /run/sztp-lab/dbus.addr); node /opt/sztp-lab/harness/bin/sztp-lab.js device key-check --json',
      ]);
      const custody = JSON.parse(out) as {
        ok: boolean;
        tpmReports: string;
        attributes: Record<string, boolean>;
        plainKeyFiles: string[];
      };
      t.true(custody.ok);
      // The TPM itself says the object is fixedTPM and fixedParent, generated inside it.
      for (const flag of ['fixedtpm', 'fixedparent', 'sensitivedataorigin']) {
        t.true(custody.tpmReports.split('|').includes(flag), `${flag} in ${custody.tpmReports}`);
      }
      // An independent look from the host at every file of the state volume.
      const plain: string[] = [];
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) walk(path);
          else if (
            /BEGIN (RSA |EC )?PRIVATE KEY/.test(readFileSync(path, 'latin1')) &&
            !name.startsWith('ssh_host')
          ) {
            plain.push(path);
          }
        }
      };
      walk(lab.stateDir);
      t.deepEqual(plain, []);
      t.regex(
        readFileSync(join(lab.stateDir, 'idevid.tss2.pem'), 'utf8'),
        /BEGIN TSS2 PRIVATE KEY/,
      );
    },
  );
});
