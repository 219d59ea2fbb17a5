import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerArtifacts } from './artifacts.ts';
import { registerDevice } from './device.ts';
import { registerDhcpOption } from './dhcp-option.ts';
import { registerDns } from './dns.ts';
import { registerDoctor } from './doctor.ts';
import { registerDown } from './down.ts';
import { registerFirmware } from './firmware.ts';
import { registerImages } from './images.ts';
import { registerLab } from './lab.ts';
import { registerNetwork } from './network.ts';
import { reportFailure } from './output.ts';
import { registerPki } from './pki.ts';
import { registerReport } from './report.ts';
import { registerRun } from './run.ts';
import { registerServer } from './server.ts';
import { registerSetup } from './setup.ts';
import { registerTopology } from './topology.ts';
import { registerVoucher } from './voucher.ts';

function packageVersion(): string {
  const url = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('sztp-lab')
    .description('Lab simulator and end-to-end test harness for Secure Zero Touch Provisioning')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    registerDoctor,
    registerSetup,
    registerImages,
    registerNetwork,
    registerDown,
    registerDhcpOption,
    registerDevice,
    registerLab,
    (p: Command) => registerRun(p, packageVersion()),
    registerFirmware,
    registerPki,
    registerVoucher,
    registerArtifacts,
    registerDns,
    registerServer,
    registerTopology,
    registerReport,
  ]) {
    register(program);
  }
  return program;
}

/** Runs the CLI and gives its exit status; commands set process.exitCode for their verdicts. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    return reportFailure(error, argv.includes('--json'));
  }
}
