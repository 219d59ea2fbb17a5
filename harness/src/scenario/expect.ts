import { leaf } from '../device/config-store.ts';
import type { PersistentState } from '../device/state.ts';
import type { NodeEvent } from '../lab/timeline.ts';
import type { ExpectationResult } from '../report/model.ts';
import type { EventMatch, Expectations } from './types.ts';

/**
 * Does an event match? Every given field must be equal; a string `/re/` is a regex. A device
 * event and a server's record match alike: `node` names a device (or one routing engine,
 * router1/re1) or a server node.
 */
export function matches(event: NodeEvent, match: EventMatch): boolean {
  for (const [field, want] of Object.entries(match)) {
    const have = event[field];
    const pattern = typeof want === 'string' && /^\/.*\/[a-z]*$/.test(want) ? want : undefined;
    if (field === 'node' && !pattern) {
      const node = String(have ?? '');
      if (typeof want === 'string' && !(node === want || node.startsWith(`${want}/`))) return false;
      continue;
    }
    if (pattern) {
      const last = pattern.lastIndexOf('/');
      if (!new RegExp(pattern.slice(1, last), pattern.slice(last + 1)).test(String(have ?? '')))
        return false;
    } else if (Array.isArray(want) || (typeof want === 'object' && want !== null)) {
      if (JSON.stringify(have) !== JSON.stringify(want)) return false;
    } else if (have !== want) {
      return false;
    }
  }
  return true;
}

export function describeMatch(match: EventMatch): string {
  return Object.entries(match)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export interface FinalState {
  /** The merged timeline: device events and the servers' records, in time order. */
  events: NodeEvent[];
  /** device node (or node/re) -> state */
  state: (device: string, re: string) => PersistentState | undefined;
  /** server -> serial -> progress types in order */
  progress: Map<string, Record<string, string[]>>;
}

/** Checks every expectation; each result says what was expected and what was found. */
export function evaluate(expect: Expectations, final: FinalState): ExpectationResult[] {
  const results: ExpectationResult[] = [];
  const events = final.events;
  for (const item of expect.timeline) {
    if (item.kind === 'order') {
      const title = `in order: ${item.events.map(describeMatch).join(' → ')}`;
      let from = 0;
      let failedAt: string | undefined;
      for (const match of item.events) {
        const index = events.findIndex((e, i) => i >= from && matches(e, match));
        if (index < 0) {
          failedAt = describeMatch(match);
          break;
        }
        from = index + 1;
      }
      results.push(
        failedAt === undefined
          ? { title, passed: true }
          : {
              title,
              passed: false,
              detail:
                `no "${failedAt}" after the events before it ` + `(${events.length} events in all)`,
            },
      );
    } else if (item.kind === 'count') {
      const count = events.filter((e) => matches(e, item.match)).length;
      const bounds =
        item.equals !== undefined
          ? `= ${item.equals}`
          : [
              item.min !== undefined ? `>= ${item.min}` : '',
              item.max !== undefined ? `<= ${item.max}` : '',
            ]
              .filter(Boolean)
              .join(' and ');
      const ok =
        (item.equals === undefined || count === item.equals) &&
        (item.min === undefined || count >= item.min) &&
        (item.max === undefined || count <= item.max);
      results.push({
        title: `count of ${describeMatch(item.match)} ${bounds}`,
        passed: ok,
        ...(ok ? {} : { detail: `found ${count}` }),
      });
    } else {
      const found = events.filter((e) => matches(e, item.match));
      results.push({
        title: `never: ${describeMatch(item.match)}`,
        passed: found.length === 0,
        ...(found.length
          ? {
              detail:
                `found ${found.length}, first at ${found[0]?.time}: ` +
                JSON.stringify(found[0]).slice(0, 300),
            }
          : {}),
      });
    }
  }
  for (const [key, want] of Object.entries(expect.devices)) {
    // `router1/re1` names a routing engine directly; `router1` means its re0 unless `re` says.
    const [device = key, reInKey] = key.split('/');
    const re = want.re ?? reInKey ?? 're0';
    const state = final.state(device, re);
    const who = `${device}/${re}`;
    if (!state) {
      results.push({
        title: `${who} has a state`,
        passed: false,
        detail: 'the routing engine never booted',
      });
      continue;
    }
    if (want.image !== undefined) {
      const slot = state.slots[state.active];
      const image = slot ? `${slot.osName} ${slot.osVersion}` : '(none)';
      results.push({
        title: `${who} runs ${want.image}`,
        passed: image === want.image,
        ...(image === want.image ? {} : { detail: `it runs ${image}` }),
      });
    }
    if (want.sztpEnabled !== undefined) {
      results.push({
        title: `${who} SZTP flag ${want.sztpEnabled ? 'set' : 'cleared'}`,
        passed: state.sztpEnabled === want.sztpEnabled,
        ...(state.sztpEnabled === want.sztpEnabled
          ? {}
          : { detail: `the flag is ${state.sztpEnabled ? 'set' : 'cleared'}` }),
      });
    }
    if (want.provisioned !== undefined) {
      const done = events.some((e) => e.kind === 'bootstrap-complete' && matches(e, { node: who }));
      results.push({
        title: `${who} ${want.provisioned ? 'reached' : 'did not reach'} bootstrap-complete`,
        passed: done === want.provisioned,
        ...(done === want.provisioned ? {} : { detail: done ? 'it did' : 'it did not' }),
      });
    }
    for (const [path, value] of Object.entries(want.config ?? {})) {
      let found: string | undefined;
      try {
        found = leaf(state.config.running, path);
      } catch {
        found = undefined;
      }
      const ok = value === null ? found === undefined : found === value;
      results.push({
        title: `${who} configuration ${path} ${value === null ? 'absent' : `= ${value}`}`,
        passed: ok,
        ...(ok ? {} : { detail: `found ${found === undefined ? 'nothing' : `"${found}"`}` }),
      });
    }
  }
  for (const want of expect.progress) {
    const types = final.progress.get(want.server)?.[want.serial] ?? [];
    const shown = types.join(', ') || 'none';
    if (want.exactly) {
      const ok = JSON.stringify(types) === JSON.stringify(want.exactly);
      results.push({
        title: `${want.server} logged exactly ${want.exactly.join(', ') || 'no reports'} for ${
          want.serial
        }`,
        passed: ok,
        ...(ok ? {} : { detail: `it logged: ${shown}` }),
      });
    }
    if (want.includes) {
      const missing = want.includes.filter((type) => !types.includes(type));
      results.push({
        title: `${want.server} logged ${want.includes.join(', ')} for ${want.serial}`,
        passed: missing.length === 0,
        ...(missing.length ? { detail: `missing ${missing.join(', ')}; it logged: ${shown}` } : {}),
      });
    }
    if (want.excludes) {
      const present = want.excludes.filter((type) => types.includes(type));
      results.push({
        title: `${want.server} logged none of ${want.excludes.join(', ')} for ${want.serial}`,
        passed: present.length === 0,
        ...(present.length ? { detail: `it logged ${present.join(', ')}` } : {}),
      });
    }
  }
  return results;
}
