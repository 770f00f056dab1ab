/**
 * Environment configuration validated at cold start. Create an `EnvReader`, read every variable
 * with the typed readers (each records a problem instead of throwing), then call `done()`, which
 * throws ONE `ConfigError` naming every missing or invalid variable and the value it was given.
 *
 * ```ts
 * const env = new EnvReader();
 * const config = { tableName: env.requiredString('TABLE_NAME'), pageSize: env.integerInRange('PAGE_SIZE', 25, 1, 100) };
 * env.done();
 * ```
 * An empty string counts as "not set". Values are read from `process.env` at call time.
 */

export class ConfigError extends Error {
  public readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface StringOptions {
  /** The value must match this pattern. */
  readonly pattern?: RegExp;
}

/** Longest value quoted in a problem message. */
const MAX_QUOTED = 120;

/** Quotes a configuration value for an error message, shortened when long. */
export function quoteValue(value: string): string {
  const shown = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}...` : value;
  return JSON.stringify(shown);
}

export class EnvReader {
  private readonly problems: string[] = [];
  private readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.env = env;
  }

  /** The raw value, `undefined` when unset or empty. */
  public raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  /** Records a problem found by custom parsing, e.g. `env.problem('ITEM_SCHEMA', 'is not valid JSON')`. */
  public problem(name: string, message: string): void {
    this.problems.push(`${name} ${message}`);
  }

  public requiredString(name: string, options: StringOptions = {}): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.problem(name, 'is required');
      return '';
    }
    return this.checkPattern(name, value, options) ?? '';
  }

  public optionalString(name: string, options: StringOptions = {}): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    return this.checkPattern(name, value, options);
  }

  /** A string with a default; the default is not checked against the pattern. */
  public stringWithDefault(name: string, defaultValue: string, options: StringOptions = {}): string {
    const value = this.raw(name);
    if (value === undefined) return defaultValue;
    return this.checkPattern(name, value, options) ?? defaultValue;
  }

  /** A base-10 integer in `min..max` (inclusive). */
  public integerInRange(name: string, defaultValue: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return defaultValue;
    const trimmed = value.trim();
    const n = /^[+-]?\d{1,16}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(name, `must be an integer in ${min}..${max}, got ${quoteValue(value)}`);
      return defaultValue;
    }
    return n;
  }

  /** `true` or `false` (exactly, lower case). */
  public booleanFlag(name: string, defaultValue: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return defaultValue;
    if (value === 'true') return true;
    if (value === 'false') return false;
    this.problem(name, `must be true or false, got ${quoteValue(value)}`);
    return defaultValue;
  }

  /** One of a fixed set of values. */
  public oneOf<const T extends string>(name: string, allowed: readonly T[], defaultValue: T): T {
    const value = this.raw(name);
    if (value === undefined) return defaultValue;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(name, `must be one of ${allowed.join(', ')}, got ${quoteValue(value)}`);
    return defaultValue;
  }

  /**
   * A value parsed by `parse`, which returns the result or throws an `Error` whose message
   * describes the problem (recorded, the result is then `undefined`).
   */
  public parsed<T>(name: string, parse: (value: string) => T): T | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      this.problem(name, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  /** The problems recorded so far. */
  public get hasProblems(): boolean {
    return this.problems.length > 0;
  }

  /** Throws one `ConfigError` listing every problem, if any. */
  public done(): void {
    if (this.problems.length > 0) throw new ConfigError([...this.problems]);
  }

  private checkPattern(name: string, value: string, options: StringOptions): string | undefined {
    if (options.pattern && !options.pattern.test(value)) {
      this.problem(name, `must match ${options.pattern.source}, got ${quoteValue(value)}`);
      return undefined;
    }
    return value;
  }
}
