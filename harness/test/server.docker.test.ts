import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { initPki } from '../src/pki/lab-pki.ts';
import {
  execIn,
  execOk,
  type LabNode,
  nodeLogs,
  removeNode,
  startNode,
} from '../src/runtime/containers.ts';
import { buildImages, imageTag } from '../src/runtime/images.ts';
import { createLabNetwork, removeLabNetwork } from '../src/runtime/networks.ts';
import { demoDevice } from '../src/sztp/server/demo.ts';
import { asReplyDocument, labRecords, parseCurl, yanglint } from './fixtures/server/lab.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HOST = 'bootstrap.sztp-lab.test';
const OP = `https://${HOST}:8443/restconf/operations/ietf-sztp-bootstrap-server`;

test.before(async () => {
  await buildImages({ only: ['server', 'device'] });
});

async function waitForReady(node: LabNode, count: number, timeoutMs = 60_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let log = '';
  while (performance.now() < deadline) {
    log = await nodeLogs(node);
    if ((log.match(/"url":"https:/g) ?? []).length >= count) return log;
    await sleep(200);
  }
  throw new Error(`the server did not get ready in ${timeoutMs} ms:\n${log.slice(-3000)}`);
}

test.serial(
  'docker: curl in a device container against the server container; progress survives a restart',
  async (t) => {
    const run = randomBytes(4).toString('hex');
    const lab = `t-srv-${run}`;
    const dir = await mkdtemp(join(tmpdir(), 'sztp-server-docker-'));
    const conf = join(dir, 'conf');
    const data = join(dir, 'data');
    const creds = join(dir, 'creds');
    const nodes: LabNode[] = [];
    const network = await createLabNetwork({ lab, name: 'lan', run, ipv6: false });
    try {
      const pki = await initPki(join(conf, 'pki'), {
        key: 'ecdsa-p256',
        pinnedDomain: 'root',
        domain: 'sztp-lab.test',
      });
      const device = await demoDevice(pki, creds, 'SN-0001');
      await writeFile(join(conf, 'records.json'), JSON.stringify(labRecords()));
      await writeFile(
        join(conf, 'server.json'),
        JSON.stringify({
          listen: { host: '0.0.0.0', port: 8443 },
          admin: { host: '127.0.0.1', port: 8080 },
          pki: 'pki',
          records: 'records.json',
          dataDir: '/var/lib/sztp-lab/data',
        }),
      );
      await mkdir(data, { recursive: true });
      await chmod(creds, 0o755);

      const server = await startNode({
        lab,
        node: 'bootstrap',
        run,
        image: imageTag('server'),
        network: { name: network.name, aliases: [HOST] },
        binds: [
          `${REPO}:/opt/sztp-lab:ro`,
          `${conf}:/etc/sztp-lab:ro`,
          `${data}:/var/lib/sztp-lab/data`,
        ],
        cmd: [
          'node',
          '/opt/sztp-lab/harness/bin/sztp-lab.js',
          'server',
          '--config',
          '/etc/sztp-lab/server.json',
          '--json',
        ],
      });
      nodes.push(server);
      const re0 = await startNode({
        lab,
        node: 're0',
        run,
        image: imageTag('device'),
        network: { name: network.name },
        binds: [`${creds}:/etc/sztp-lab/device:ro`, `${join(conf, 'pki')}:/etc/sztp-lab/pki:ro`],
        entrypoint: ['sleep', 'infinity'],
      });
      nodes.push(re0);
      await waitForReady(server, 1);

      const curlIn = async (rpc: string, body: string, type: string, accept = type) => {
        const out = await execOk(re0, [
          'curl',
          '-sS',
          '-i',
          '--max-time',
          '20',
          '--cacert',
          '/etc/sztp-lab/pki/tls-ca.pem',
          '--cert',
          '/etc/sztp-lab/device/SN-0001.pem',
          '--key',
          '/etc/sztp-lab/device/SN-0001.key',
          '-H',
          `Content-Type: ${type}`,
          '-H',
          `Accept: ${accept}`,
          '--data-binary',
          body,
          `${OP}:${rpc}`,
        ]);
        return parseCurl(out);
      };
      t.truthy(device.cert);

      const json = await curlIn(
        'get-bootstrapping-data',
        JSON.stringify({ 'ietf-sztp-bootstrap-server:input': { 'hw-model': 'mx204' } }),
        'application/yang-data+json',
      );
      t.is(json.status, 200, json.body);
      t.is(await yanglint('reply', asReplyDocument(json.body, 'json'), 'json'), undefined);

      const xml = await curlIn(
        'get-bootstrapping-data',
        '<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><signed-data-preferred/></input>',
        'application/yang-data+xml',
      );
      t.is(xml.status, 200, xml.body);
      t.is(await yanglint('reply', asReplyDocument(xml.body, 'xml'), 'xml'), undefined);
      // Appendix B: signed redirect back to the name the device used, which the certificate carries.
      const ci = /<conveyed-information>([^<]+)</.exec(xml.body)?.[1] ?? '';
      t.true(
        Buffer.from(ci, 'base64').toString('latin1').includes(`"address":"${HOST}","port":8443`),
      );

      const bad = await curlIn(
        'get-bootstrapping-data',
        JSON.stringify({ 'ietf-sztp-bootstrap-server:input': { nonce: 'AAAA' } }),
        'application/yang-data+json',
      );
      t.is(bad.status, 400);
      t.is(JSON.parse(bad.body)['ietf-restconf:errors'].error[0]['error-tag'], 'invalid-value');

      const progress = await curlIn(
        'report-progress',
        JSON.stringify({
          'ietf-sztp-bootstrap-server:input': { 'progress-type': 'bootstrap-initiated' },
        }),
        'application/yang-data+json',
      );
      t.is(progress.status, 204);

      // The admin API listens on the server's loopback only: the device cannot reach it.
      const fromDevice = await execIn(re0, [
        'curl',
        '-sS',
        '--max-time',
        '5',
        `http://${HOST}:8080/health`,
      ]);
      t.not(fromDevice.exitCode, 0);
      const adminGet = async (path: string) =>
        JSON.parse(await execOk(server, ['curl', '-sS', `http://127.0.0.1:8080${path}`]));
      const before = await adminGet('/devices/SN-0001/progress');
      t.is(before.progress.length, 1);

      await server.container.restart({ t: 5 });
      await waitForReady(server, 2);
      const after = await adminGet('/devices/SN-0001/progress');
      t.deepEqual(after.progress, before.progress);
      const audit = await adminGet('/audit?serial=SN-0001');
      t.deepEqual(
        audit.entries.map((e: { status: number }) => e.status),
        [200, 200, 400, 204],
      );
    } finally {
      for (const node of nodes.reverse()) await removeNode(node).catch(() => {});
      await removeLabNetwork(network);
      await rm(dir, { recursive: true, force: true });
    }
  },
);
