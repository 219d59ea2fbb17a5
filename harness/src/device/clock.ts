import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../common/errors.ts';
import type { DeviceConfig } from './device-config.ts';
import type { EventLog } from './events.ts';

/** The file in the state folder through which the lab changes an engine's clock. */
export const CLOCK_FILE = 'clock.json';

type Clock = DeviceConfig['clock'];

function readClockFile(path: string): Clock {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new LabError('CONFIG_INVALID', `${path}: not JSON (${(error as Error).message})`);
  }
  const mode = raw.mode ?? 'system';
  if (mode !== 'system' && mode !== 'none')
    throw new LabError('CONFIG_INVALID', `${path}: mode must be "system" or "none"`);
  const skewSeconds = raw.skewSeconds ?? 0;
  if (typeof skewSeconds !== 'number' || !Number.isFinite(skewSeconds))
    throw new LabError('CONFIG_INVALID', `${path}: skewSeconds must be a number`);
  return { mode, skewSeconds };
}

/**
 * The engine's clock as it stands: device.json's setting, unless the lab has since written
 * one into the state folder (a scenario's clock fault), the way an operator or a drifting RTC
 * changes a router's time while it runs. Read at each use; the first use of a new setting is
 * an event, so the timeline shows from when the device went by it.
 */
export function clockSource(config: DeviceConfig, stateDir: string, events: EventLog): () => Clock {
  const path = join(stateDir, CLOCK_FILE);
  let last = `${config.clock.mode}/${config.clock.skewSeconds}`;
  return () => {
    const clock = existsSync(path) ? readClockFile(path) : config.clock;
    const key = `${clock.mode}/${clock.skewSeconds}`;
    if (key !== last) {
      last = key;
      events.emit('clock-set', { mode: clock.mode, skewSeconds: clock.skewSeconds });
    }
    return clock;
  };
}
