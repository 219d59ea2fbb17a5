import { relative, resolve } from 'node:path';
import { LabError } from '../common/errors.ts';

/**
 * One thing wrong with a topology or scenario file. `path` is the dotted path inside the
 * document (`nodes.router1.serial`), empty for the document itself.
 */
export interface Problem {
  file: string;
  path: string;
  message: string;
  line?: number;
  col?: number;
}

export type PathSegment = string | number;

/** Error codes of the two file formats (the CLI and reports classify failures by them). */
export const TOPOLOGY_INVALID = 'TOPOLOGY_INVALID';
export const SCENARIO_INVALID = 'SCENARIO_INVALID';

/** `nodes.router1.routing-engines[0]`; keys that are not plain words are quoted. */
export function dottedPath(segments: readonly PathSegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * The text a person reads: the file, the dotted path, what is wrong, and where in the YAML
 * when known. Messages that begin with "must"/"is" read on from the path; others follow a colon.
 */
export function formatProblem(problem: Problem): string {
  const where = problem.path === '' ? '' : problem.path;
  const joined =
    where === ''
      ? problem.message
      : /^(must|is|are|has) /.test(problem.message)
        ? `${where} ${problem.message}`
        : `${where}: ${problem.message}`;
  if (problem.line === undefined) return `${problem.file}: ${joined}`;
  // Without a path (YAML syntax errors) the position is the only pointer: file:line:col first.
  if (where === '') return `${problem.file}:${problem.line}:${problem.col}: ${joined}`;
  return `${problem.file}: ${joined} (line ${problem.line}, column ${problem.col})`;
}

/** The name files go by in messages: relative to the working folder when inside it. */
export function displayName(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel !== '' && !rel.startsWith('..') ? rel : resolve(path);
}

/** Throws every problem at once as one error; the message has one line per problem. */
export function throwProblems(code: string, problems: Problem[]): never {
  const lines = problems.map(formatProblem);
  throw new LabError(code, lines.join('\n'), { details: { problems } });
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known word closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** "a dhcp node", "an image-server node". */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}
