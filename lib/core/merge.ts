/**
 * The one merge rule of the library: what a construct requires wins over what the user
 * passed, which wins over the library's defaults. Shallow on purpose: a user who passes a
 * nested object (say `deployOptions`) replaces the default one, which is easier to reason
 * about than a deep merge.
 */
export function mergeProps<T extends object>(defaults: Partial<T>, user: Partial<T> | undefined, required: Partial<T> = {}): T {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(user ?? {})) {
    if (value !== undefined) merged[key] = value;
  }
  for (const [key, value] of Object.entries(required)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as T;
}
