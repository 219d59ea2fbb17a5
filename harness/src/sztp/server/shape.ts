import { LabError } from '../../common/errors.ts';

/** Error code for a server configuration or records file that cannot be used. */
export const CONFIG_INVALID = 'SERVER_CONFIG_INVALID';

/**
 * Reads a parsed JSON document field by field; every failure names the file and the dotted
 * path, e.g. `server.json: tls.minVersion must be one of TLSv1.2, TLSv1.3`.
 */
export class Shape {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  fail(why: string): never {
    const where = this.path ? `${this.path} ` : '';
    throw new LabError(CONFIG_INVALID, `${this.file}: ${where}${why}`, {
      details: { file: this.file, path: this.path },
    });
  }

  /** The members of an object; unknown members are refused. */
  object(allowed?: readonly string[]): Record<string, unknown> {
    const v = this.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('must be an object');
    if (allowed) {
      for (const key of Object.keys(v)) {
        if (!allowed.includes(key)) {
          this.at(key).fail(`is not a known setting (known: ${allowed.join(', ')})`);
        }
      }
    }
    return v as Record<string, unknown>;
  }

  at(key: string | number): Shape {
    const obj = this.value as Record<string, unknown>;
    const child =
      typeof obj === 'object' && obj !== null && Object.hasOwn(obj, key) ? obj[key] : undefined;
    const path =
      typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new Shape(this.file, path, child);
  }

  get present(): boolean {
    return this.value !== undefined;
  }

  string(fallback?: string): string {
    if (this.value === undefined && fallback !== undefined) return fallback;
    if (typeof this.value !== 'string' || this.value === '')
      this.fail('must be a non-empty string');
    return this.value;
  }

  optionalString(): string | undefined {
    return this.value === undefined ? undefined : this.string();
  }

  integer(min: number, max: number, fallback?: number): number {
    if (this.value === undefined && fallback !== undefined) return fallback;
    const v = this.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`must be an integer from ${min} to ${max}`);
    }
    return v;
  }

  boolean(fallback: boolean): boolean {
    if (this.value === undefined) return fallback;
    if (typeof this.value !== 'boolean') this.fail('must be true or false');
    return this.value;
  }

  oneOf<T extends string>(choices: readonly T[], fallback?: T): T {
    if (this.value === undefined && fallback !== undefined) return fallback;
    if (typeof this.value !== 'string' || !(choices as readonly string[]).includes(this.value)) {
      this.fail(`must be one of ${choices.join(', ')}`);
    }
    return this.value as T;
  }

  array(): Shape[] {
    if (!Array.isArray(this.value)) this.fail('must be an array');
    return this.value.map((_, i) => this.at(i));
  }
}
