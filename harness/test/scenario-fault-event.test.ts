import test from 'ava';
import { faultEvent } from '../src/scenario/execute.ts';

const at = new Date('2026-12-04T10:00:00.250Z');

test('a container fault becomes a fault event on its node, with its action', (t) => {
  t.deepEqual(faultEvent({ kind: 'container', node: 'images', action: 'kill' }, at), {
    time: '2026-12-04T10:00:00.250Z',
    node: 'images',
    kind: 'fault',
    fault: 'container',
    action: 'kill',
    title: 'kill images',
  });
});

test('a server fault keeps its own kind apart from the event kind', (t) => {
  const event = faultEvent(
    {
      kind: 'server',
      node: 'bootstrap',
      rpc: 'get-bootstrapping-data',
      count: 2,
      fault: { kind: 'delay', ms: 2000 },
    },
    at,
  );
  t.like(event, {
    node: 'bootstrap',
    kind: 'fault',
    fault: 'server',
    rpc: 'get-bootstrapping-data',
    count: 2,
    serverFault: { kind: 'delay', ms: 2000 },
  });
  t.regex(String(event.title), /^server bootstrap: /);
});

test('netem and clock faults carry their settings', (t) => {
  t.like(faultEvent({ kind: 'netem', node: 'bootstrap', delayMs: 300, lossPercent: 5 }, at), {
    fault: 'netem',
    delayMs: 300,
    lossPercent: 5,
    title: 'netem on bootstrap delay 300 ms loss 5%',
  });
  t.like(faultEvent({ kind: 'clock', node: 'router1', skewSeconds: -60 }, at), {
    node: 'router1',
    fault: 'clock',
    skewSeconds: -60,
  });
});
