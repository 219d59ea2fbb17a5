import type { Command } from 'commander';
import { keyCustody, rearm, runDevice, zeroize } from '../device/main.ts';
import { makeOutput } from './output.ts';

export function registerDevice(program: Command): void {
  const device = program
    .command('device')
    .description('the emulated routing engine (runs inside the device image)');

  device
    .command('run')
    .description(
      'power on: factory identity if needed, then SZTP; events go to stdout as JSON lines',
    )
    .option('--config <file>', 'device configuration', '/etc/sztp-lab/device.json')
    .option('--state <dir>', 'state volume', '/var/lib/sztp-lab/state')
    .action(async (opts: { config: string; state: string }) => {
      // runDevice returns only to reboot; the link server and timers must not keep it up.
      process.exit(await runDevice(opts));
    });

  device
    .command('zeroize')
    .description('return to the factory default (configuration and flags wiped, IDevID kept)')
    .option('--config <file>', 'device configuration', '/etc/sztp-lab/device.json')
    .option('--state <dir>', 'state volume', '/var/lib/sztp-lab/state')
    .option('--json', 'print the result as JSON')
    .action((opts: { config: string; state: string; json?: boolean }) => {
      zeroize(opts);
      makeOutput(Boolean(opts.json)).result({ ok: true }, 'zeroized');
    });

  device
    .command('rearm')
    .description(
      'set the SZTP flag again and keep the configuration (phone-home runs at the next boot)',
    )
    .option('--config <file>', 'device configuration', '/etc/sztp-lab/device.json')
    .option('--state <dir>', 'state volume', '/var/lib/sztp-lab/state')
    .option('--json', 'print the result as JSON')
    .action((opts: { config: string; state: string; json?: boolean }) => {
      rearm(opts);
      makeOutput(Boolean(opts.json)).result({ ok: true }, 'rearmed');
    });

  device
    .command('key-check')
    .description(
      'show that the identity key is TPM-wrapped, fixedTPM, and that no plain key is on disk',
    )
    .option('--state <dir>', 'state volume', '/var/lib/sztp-lab/state')
    .option('--json', 'print the evidence as JSON')
    .action(async (opts: { state: string; json?: boolean }) => {
      const custody = await keyCustody(opts.state);
      const ok =
        custody.attributes.fixedTPM &&
        custody.attributes.fixedParent &&
        custody.plainKeyFiles.length === 0;
      makeOutput(Boolean(opts.json)).result(
        { ok, ...custody },
        `${ok ? 'ok' : 'FAIL'}: TPM reports ${custody.tpmReports}; plain keys on disk: ${custody.plainKeyFiles.length}`,
      );
      if (!ok) process.exitCode = 1;
    });
}
