#!/usr/bin/env node
// The routing engine's power-on entry through tsx (src/device/entry.ts), for device images that
// do not get the lab's prebuilt bundle. Every other device command goes through sztp-lab.js.
import { register } from 'tsx/esm/api';

register();
await import('../src/device/entry.ts');
