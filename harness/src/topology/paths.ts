import { isAbsolute, resolve } from 'node:path';

type Raw = Record<string, unknown>;

const isObject = (value: unknown): value is Raw =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const absolute = (value: unknown, baseDir: string) =>
  typeof value === 'string' && value !== '' && !isAbsolute(value) ? resolve(baseDir, value) : value;

/** A record (kebab-case, as written) with its `replay` path made absolute against `baseDir`. */
export function recordPaths(record: unknown, baseDir: string): unknown {
  if (!isObject(record) || record.replay === undefined) return record;
  return { ...record, replay: absolute(record.replay, baseDir) };
}

/**
 * A topology document (or a scenario's patch of one), as written, with the file paths it names
 * made absolute against `baseDir`, the folder of the file they were written in: each record's
 * `replay` and each device's `voucher-trust-anchors`. Paths are resolved before a patch is
 * merged, so each stays relative to its own file. Values of the wrong type are left for the
 * schema to refuse; the input is not changed.
 */
export function topologyPaths(doc: unknown, baseDir: string): unknown {
  if (!isObject(doc)) return doc;
  const out: Raw = { ...doc };
  if (isObject(doc.nodes)) {
    out.nodes = Object.fromEntries(
      Object.entries(doc.nodes).map(([name, node]) => {
        if (!isObject(node) || !Array.isArray(node['voucher-trust-anchors'])) return [name, node];
        const anchors = node['voucher-trust-anchors'].map((path) => absolute(path, baseDir));
        return [name, { ...node, 'voucher-trust-anchors': anchors }];
      }),
    );
  }
  if (isObject(doc.records)) {
    out.records = Object.fromEntries(
      Object.entries(doc.records).map(([server, bySerial]) => [
        server,
        isObject(bySerial)
          ? Object.fromEntries(
              Object.entries(bySerial).map(([serial, record]) => [
                serial,
                recordPaths(record, baseDir),
              ]),
            )
          : bySerial,
      ]),
    );
  }
  return out;
}
