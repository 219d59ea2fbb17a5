import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { closest, dottedPath, type PathSegment, type Problem } from './problems.ts';

/**
 * The JSON Schemas of the two file formats (harness/schemas), compiled once, and what turns
 * their verdicts into problems a person can act on. The schemas are the one description of
 * which keys exist; camelize() reads them too, so the YAML's kebab-case keys become the
 * TypeScript names in one place.
 */

type Schema = Record<string, unknown>;
export type SchemaName = 'topology.schema.json' | 'scenario.schema.json';

function readSchema(name: SchemaName): Schema {
  const url = new URL(`../../schemas/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Schema;
}

const schemas: Record<SchemaName, Schema> = {
  'topology.schema.json': readSchema('topology.schema.json'),
  'scenario.schema.json': readSchema('scenario.schema.json'),
};

let compiled: Map<SchemaName, ValidateFunction> | undefined;

function validator(name: SchemaName): ValidateFunction {
  if (!compiled) {
    // verbose: the errors carry their schema, where the known keys and errorMessage live.
    const ajv = new Ajv2020({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
    });
    // errorMessage is the friendly text VS Code's JSON service also shows; Ajv only carries it.
    ajv.addVocabulary(['errorMessage']);
    for (const [key, schema] of Object.entries(schemas)) ajv.addSchema(schema, key);
    compiled = new Map();
    for (const key of Object.keys(schemas) as SchemaName[]) {
      const validate = ajv.getSchema(key);
      if (!validate) throw new Error(`schema ${key} did not compile`);
      compiled.set(key, validate);
    }
  }
  const validate = compiled.get(name);
  if (!validate) throw new Error(`unknown schema ${name}`);
  return validate;
}

/** Where a path points in the source, when the document came from YAML. */
export type Locate = (
  segments: readonly PathSegment[],
) => { line: number; col: number } | undefined;

/** Validates `doc` against a schema; gives the problems (empty when valid). */
export function schemaProblems(
  name: SchemaName,
  doc: unknown,
  file: string,
  locate?: Locate,
  prefix: readonly PathSegment[] = [],
): Problem[] {
  const validate = validator(name);
  if (validate(doc)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const described = describe(error, doc);
    if (!described) continue;
    const segments = [...prefix, ...described.segments];
    const key = `${JSON.stringify(segments)} ${described.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({
      file,
      path: dottedPath(segments),
      message: described.message,
      ...(locate?.([...prefix, ...(described.at ?? described.segments)]) ?? {}),
    });
  }
  return problems;
}

/** Splits an Ajv instance path, turning array indexes into numbers. */
function pointerSegments(pointer: string, doc: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      segments.push(Number(part));
      node = node[Number(part)];
    } else {
      segments.push(part);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    }
  }
  return segments;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

/** Keywords whose failure is best explained by the schema's own errorMessage. */
const FRIENDLY = new Set([
  'pattern',
  'propertyNames',
  'oneOf',
  'anyOf',
  'minProperties',
  'maxProperties',
]);

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function describe(
  error: ErrorObject,
  doc: unknown,
): { segments: PathSegment[]; message: string; at?: PathSegment[] } | undefined {
  const { keyword, params, parentSchema } = error;
  // Failed `if`s only say which `then` applied; the branch errors (oneOf/anyOf alternatives,
  // propertyNames' inner checks) are summed up by their parent's error.
  if (keyword === 'if') return undefined;
  if (/\/(oneOf|anyOf|propertyNames)\//.test(error.schemaPath)) return undefined;
  if (error.propertyName !== undefined && keyword !== 'propertyNames') return undefined;
  const segments = pointerSegments(error.instancePath, doc);
  const friendly =
    parentSchema && typeof parentSchema.errorMessage === 'string'
      ? (parentSchema.errorMessage as string)
      : undefined;

  switch (keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((parentSchema?.properties as Schema | undefined) ?? {});
      const guess = closest(key, known);
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      return { segments, message: `unknown key "${key}"${hint}`, at: [...segments, key] };
    }
    case 'required':
      return { segments, message: `missing required key "${params.missingProperty}"` };
    case 'type': {
      const types = String(params.type).split(',');
      const words = types.map((t) => TYPE_WORDS[t] ?? t);
      return { segments, message: `must be ${words.join(' or ')}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(quote);
      const guess =
        typeof error.data === 'string'
          ? closest(error.data, (params.allowedValues as unknown[]).map(String))
          : undefined;
      const hint = guess ? `; did you mean "${guess}"?` : '';
      return {
        segments,
        message: `must be one of ${allowed.join(', ')} (got ${quote(error.data)}${hint})`,
      };
    }
    case 'const':
      return { segments, message: `must be ${quote(params.allowedValue)}` };
    case 'propertyNames': {
      const name = String(params.propertyName);
      return {
        segments: [...segments, name],
        message: `is not a valid key: ${friendly ?? 'it does not match the allowed names'}`,
      };
    }
  }
  if (FRIENDLY.has(keyword) && friendly) {
    const got = keyword === 'pattern' ? ` (got ${quote(error.data)})` : '';
    return { segments, message: `${friendly}${got}` };
  }
  return { segments, message: error.message ?? `fails ${keyword}` };
}

/** `pinned-domain` -> `pinnedDomain`. */
export function camelCase(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface Located {
  schema: Schema;
  doc: SchemaName;
}

function resolveRef(at: Located): Located {
  let current = at;
  for (let hops = 0; typeof current.schema.$ref === 'string' && hops < 20; hops++) {
    const [file, pointer = ''] = (current.schema.$ref as string).split('#');
    const doc = file === '' || file === undefined ? current.doc : (file as SchemaName);
    let target: unknown = schemas[doc];
    for (const part of pointer.split('/').filter(Boolean)) {
      target = (target as Schema)[part];
    }
    current = { schema: target as Schema, doc };
  }
  return current;
}

/** Enough of `if` for the schemas here: properties with const or enum, and required. */
function ifHolds(condition: Schema, value: Record<string, unknown>): boolean {
  for (const key of (condition.required as string[] | undefined) ?? []) {
    if (!(key in value)) return false;
  }
  const properties = (condition.properties as Record<string, Schema> | undefined) ?? {};
  for (const [key, rule] of Object.entries(properties)) {
    if (!(key in value)) continue;
    if ('const' in rule && rule.const !== value[key]) return false;
    if (Array.isArray(rule.enum) && !rule.enum.includes(value[key])) return false;
  }
  return true;
}

/** The property schemas that apply to an object value, following allOf and if/then. */
function objectRules(
  at: Located,
  value: Record<string, unknown>,
): {
  properties: Map<string, Located>;
  additional: Located | undefined;
} {
  const properties = new Map<string, Located>();
  let additional: Located | undefined;
  const visit = (raw: Located) => {
    const here = resolveRef(raw);
    const schema = here.schema;
    for (const [key, rule] of Object.entries((schema.properties as Schema | undefined) ?? {})) {
      if (!properties.has(key)) properties.set(key, { schema: rule as Schema, doc: here.doc });
    }
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      additional = { schema: schema.additionalProperties as Schema, doc: here.doc };
    }
    for (const part of (schema.allOf as Schema[] | undefined) ?? []) {
      if (part.if && part.then) {
        if (ifHolds(part.if as Schema, value))
          visit({ schema: part.then as Schema, doc: here.doc });
      } else {
        visit({ schema: part, doc: here.doc });
      }
    }
  };
  visit(at);
  return { properties, additional };
}

/**
 * Renames the schema's own keys from kebab-case to camelCase, leaving user-chosen keys (node
 * names, serials, file names, event fields) as written. `doc` must already be valid.
 */
export function camelize(value: unknown, schema: SchemaName | Located): unknown {
  const at: Located =
    typeof schema === 'string' ? { schema: schemas[schema], doc: schema } : resolveRef(schema);
  if (Array.isArray(value)) {
    const items = at.schema.items as Schema | undefined;
    return items ? value.map((item) => camelize(item, { schema: items, doc: at.doc })) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const { properties, additional } = objectRules(at, record);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(record)) {
    const rule = properties.get(key);
    if (rule) out[camelCase(key)] = camelize(child, rule);
    else out[key] = additional ? camelize(child, additional) : child;
  }
  return out;
}

/** The raw schema documents (for tests that check every property is described). */
export function schemaDocuments(): Readonly<Record<SchemaName, Schema>> {
  return schemas;
}
