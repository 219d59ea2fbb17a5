import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { loadServerConfig } from '../sztp/server/config.ts';
import { prepareDemo } from '../sztp/server/demo.ts';
import { serveFromConfig, serveUntilSignal } from '../sztp/server/main.ts';
import { startServer } from '../sztp/server/server.ts';

interface RunFlags {
  config?: string;
  json?: boolean;
}

interface DemoFlags {
  dir: string;
  port: string;
  serial: string;
  json?: boolean;
}

const stderr = (line: string) => process.stderr.write(`${line}\n`);

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LabError('INVALID_ARGUMENT', `--port ${value} is not a port number (0 to 65535)`);
  }
  return port;
}

/** Registers `server --config FILE` and `server demo`. */
export function registerServer(program: Command): void {
  const command = program
    .command('server')
    .description('Run the RFC 8572 redirect / onboarding server (roles set in its configuration)')
    .option('--config <file>', 'the server configuration (JSON)')
    .option('--json', 'print the ready line as JSON')
    .action(async (flags: RunFlags) => {
      if (!flags.config) {
        throw new LabError(
          'INVALID_ARGUMENT',
          'server needs --config FILE (or try "server demo --dir DIR")',
        );
      }
      await serveFromConfig(flags.config, flags.json);
    });

  command
    .command('demo')
    .description(
      'Create a lab PKI, a demo device and its record in DIR, serve both roles on 127.0.0.1 and print one JSON line',
    )
    .requiredOption('--dir <dir>', 'where the PKI, the device credentials and the journal go')
    .option('--port <n>', 'the port to listen on (0: any free port)', '8443')
    .option('--serial <sn>', 'the demo device serial number', 'SN-DEMO-0001')
    .option('--json', 'accepted for symmetry: the ready line is always JSON')
    .action(async (flags: DemoFlags) => {
      const demo = await prepareDemo({
        dir: flags.dir,
        port: parsePort(flags.port),
        serial: flags.serial,
      });
      const config = await loadServerConfig(demo.configFile);
      const server = await startServer(config, stderr);
      stderr(
        `sztp-lab server demo: admin API at ${server.admin?.url}; journal ${server.state.journalPath}`,
      );
      stderr(
        `try: curl --cacert ${demo.trustAnchor} --cert ${demo.device.cert} --key ${demo.device.key} ` +
          `-H 'Content-Type: application/yang-data+json' -d '{"ietf-sztp-bootstrap-server:input":{}}' ` +
          `${server.url}/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data`,
      );
      process.stdout.write(
        `${JSON.stringify({ url: server.url, trustAnchor: demo.trustAnchor, device: demo.device })}\n`,
      );
      await serveUntilSignal(server);
    });
}
