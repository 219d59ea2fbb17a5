/**
 * A routing engine's power-on entry: `[--config FILE] [--state DIR]`, without the rest of the
 * CLI. The lab runs it from a prebuilt bundle (runtime/bundles.ts); harness/bin/
 * sztp-lab-device.js runs it through tsx. Every other device command goes through the CLI.
 */
import { runDevice } from './main.ts';

const option = (name: string) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const config = option('--config');
const state = option('--state');
// runDevice returns only to reboot; the link server and timers must not keep it up.
process.exit(await runDevice({ ...(config ? { config } : {}), ...(state ? { state } : {}) }));
