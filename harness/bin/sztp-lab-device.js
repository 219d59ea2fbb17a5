#!/usr/bin/env node
// The routing engine's power-on entry: `sztp-lab device run` without loading the whole CLI
// (the servers, reports and schemas it does not need), so an engine boots about 0.3 s sooner.
// Every other device command goes through harness/bin/sztp-lab.js.
import { register } from 'tsx/esm/api';

register();
const { runDevice } = await import('../src/device/main.ts');
const option = (name) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const config = option('--config');
const state = option('--state');
// runDevice returns only to reboot; the link server and timers must not keep it up.
process.exit(await runDevice({ ...(config ? { config } : {}), ...(state ? { state } : {}) }));
