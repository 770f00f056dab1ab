import { Token } from 'aws-cdk-lib';

/**
 * Thrown at synth time for props that cannot work. The message says what is wrong,
 * the value given and how to fix it.
 */
export class InvalidPropsError extends Error {
  constructor(construct: string, message: string) {
    super(`${construct}: ${message}`);
    this.name = 'InvalidPropsError';
  }
}

/** Fails when two mutually exclusive props are both given (`existingX` and `xProps`). */
export function assertExclusive(construct: string, props: object, a: string, b: string): void {
  const values = props as Record<string, unknown>;
  if (values[a] !== undefined && values[b] !== undefined) {
    throw new InvalidPropsError(construct, `${a} and ${b} are mutually exclusive: pass ${a} to use an existing resource, or ${b} to configure the one created here, not both`);
  }
}

/** Fails when `value` is a resolved number outside `min..max` or not an integer. */
export function assertIntegerInRange(construct: string, name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidPropsError(construct, `${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

