import { execFile } from 'node:child_process';
import test from 'ava';

const CLI = new URL('../bin/sztp-lab.js', import.meta.url).pathname;
const FIXTURES = 'harness/test/fixtures/topology';

/** Runs the CLI without blocking, so the tests of this file overlap (each start costs ~2 s). */
function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

test('topology check: valid files exit 0 and say ok', async (t) => {
  const result = await cli('topology', 'check', 'topologies/basic.yaml', 'topologies/full.yaml');
  t.is(result.status, 0, result.stderr);
  t.regex(result.stdout, /ok topologies\/basic\.yaml\nok topologies\/full\.yaml/);
});

test('topology check: one invalid file makes it exit 1, with every problem printed', async (t) => {
  const result = await cli(
    'topology',
    'check',
    'topologies/basic.yaml',
    `${FIXTURES}/invalid.yaml`,
    `${FIXTURES}/syntax-error.yaml`,
  );
  t.is(result.status, 1);
  t.regex(result.stdout, /ok topologies\/basic\.yaml/);
  t.regex(
    result.stdout,
    /invalid\.yaml: nodes\.router1: unknown key "serail" \(did you mean "serial"\?\)/,
  );
  t.regex(result.stdout, /invalid\.yaml: nodes\.router1: missing required key "serial"/);
  t.regex(result.stdout, /syntax-error\.yaml:\d+:\d+: YAML: /);
});

test('topology check --json gives a verdict per file', async (t) => {
  const result = await cli(
    'topology',
    'check',
    '--json',
    'topologies/basic.yaml',
    `${FIXTURES}/invalid.yaml`,
  );
  t.is(result.status, 1);
  const body = JSON.parse(result.stdout) as {
    ok: boolean;
    files: { file: string; ok: boolean; problems: { path: string; message: string }[] }[];
  };
  t.false(body.ok);
  t.deepEqual(
    body.files.map((file) => file.ok),
    [true, false],
  );
  t.true(body.files[1]?.problems.some((problem) => problem.path === 'nodes.router1'));
});

test('scenario check: the fixture scenario is valid; a topology is not a scenario', async (t) => {
  t.is((await cli('scenario', 'check', `${FIXTURES}/scenario.yaml`)).status, 0);
  const result = await cli('scenario', 'check', `${FIXTURES}/lab.yaml`);
  t.is(result.status, 1);
  t.regex(result.stdout, /lab\.yaml:3:1: missing required key "title"/);
  t.regex(result.stdout, /lab\.yaml:4:1: unknown key "nodes"/);
});
