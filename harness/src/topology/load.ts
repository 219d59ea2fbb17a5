import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { errorMessage } from '../common/errors.ts';
import { topologyProblems } from './check.ts';
import { resolveTopology } from './defaults.ts';
import { topologyPaths } from './paths.ts';
import { displayName, type Problem, TOPOLOGY_INVALID, throwProblems } from './problems.ts';
import { camelize, type Locate, schemaProblems } from './schema.ts';
import type { Topology } from './types.ts';

/**
 * Topology files: YAML -> schema -> camelCase -> defaults -> cross-references -> frozen.
 * Every step reports all it finds, each problem naming the file and the dotted path.
 */

/** A parsed YAML file: its plain data and a way back from a path to a line and column. */
export interface YamlFile {
  doc: unknown;
  locate: Locate;
}

/** Parses YAML, refusing syntax errors with file:line:col. */
export function readYaml(text: string, file: string, code: string): YamlFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  if (document.errors.length > 0) {
    const problems: Problem[] = document.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return { file, path: '', message: `YAML: ${error.message.split('\n')[0]}`, line, col };
    });
    throwProblems(code, problems);
  }
  const locate: Locate = (segments) => {
    let node: unknown = document.contents;
    let offset: number | undefined;
    for (const segment of segments) {
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isScalar(item.key) && String(item.key.value) === String(segment),
        );
        if (!pair) break;
        offset = (pair.key as Node).range?.[0];
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0];
        node = item;
      } else {
        break;
      }
    }
    if (offset === undefined) offset = (document.contents as Node | null)?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset);
  };
  return { doc: document.toJS({ maxAliasCount: 1000 }), locate };
}

/** Freezes a value and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates a topology document (already plain data) and gives the Topology, frozen. `file`
 * names it in messages. Throws a LabError TOPOLOGY_INVALID listing every problem.
 */
export function parseTopology(doc: unknown, file: string, locate?: Locate): Topology {
  const problems = schemaProblems('topology.schema.json', doc, file, locate);
  if (problems.length > 0) throwProblems(TOPOLOGY_INVALID, problems);
  const topology = resolveTopology(
    camelize(doc, 'topology.schema.json') as Record<string, unknown>,
  );
  const references = topologyProblems(topology, file, locate);
  if (references.length > 0) throwProblems(TOPOLOGY_INVALID, references);
  topology.file = file;
  return deepFreeze(topology);
}

/** A topology from YAML text; `file` names it in messages. */
export function topologyFromYaml(text: string, file: string): Topology {
  const { doc, locate } = readYaml(text, file, TOPOLOGY_INVALID);
  // Files the topology names (captured replies, trust anchors) are relative to it.
  return parseTopology(topologyPaths(doc, dirname(resolve(file))), file, locate);
}

/** Reads, validates and freezes a topology file. */
export async function loadTopology(path: string): Promise<Topology> {
  const file = displayName(path);
  return topologyFromYaml(await readText(path, file, TOPOLOGY_INVALID), file);
}

/** Reads a file, refusing a missing or unreadable one as a problem of that file. */
export async function readText(path: string, file: string, code: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const reason = errno === 'ENOENT' ? 'no such file' : errorMessage(error);
    throwProblems(code, [{ file, path: '', message: `cannot read: ${reason}` }]);
  }
}
