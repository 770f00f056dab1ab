/**
 * What an EventBridge rule or schedule target receives (EventBridge user guide, "Transforming
 * target input"): the event itself; a constant `Input`; the part `InputPath` selects; or an
 * `InputTransformer`'s template with each `<name>` replaced by the value its path selects —
 * inside quotes as the plain text of the value, elsewhere as its JSON; `<aws.events.event>` is
 * the event without its `detail`, `<aws.events.event.json>` the whole event.
 */

export interface TargetInputOptions {
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

/** The value at a simple JSONPath (`$`, `$.a.b`, `$.a[0]`); `undefined` when absent. */
export function valueAtPath(root: unknown, path: string): unknown {
  if (path === '$') return root;
  const parts = path.replace(/^\$\.?/, '').split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '');
  let value: unknown = root;
  for (const part of parts) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The target's input as text (JSON, or the transformer's output). */
export function targetInput(event: unknown, options: TargetInputOptions): string {
  if (options.Input !== undefined) return options.Input;
  if (options.InputPath !== undefined) return JSON.stringify(valueAtPath(event, options.InputPath) ?? null);
  const transformer = options.InputTransformer;
  if (transformer === undefined) return JSON.stringify(event);
  const values = Object.fromEntries(Object.entries(transformer.InputPathsMap ?? {}).map(([name, path]) => [name, valueAtPath(event, path)]));
  // `aws.events.event` is the event without its `detail`; `aws.events.event.json` the whole event.
  const withoutDetail = event !== null && typeof event === 'object' && !Array.isArray(event)
    ? Object.fromEntries(Object.entries(event).filter(([key]) => key !== 'detail'))
    : event;
  const builtIns: Record<string, unknown> = { 'aws.events.event': withoutDetail, 'aws.events.event.json': event };
  let insideQuotes = false;
  let out = '';
  const template = transformer.InputTemplate;
  for (let i = 0; i < template.length; i++) {
    const char = template[i]!;
    if (char === '"' && template[i - 1] !== '\\') insideQuotes = !insideQuotes;
    const placeholder = char === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder !== null && (placeholder[1]! in values || placeholder[1]! in builtIns)) {
      const value = placeholder[1]! in values ? values[placeholder[1]!] : builtIns[placeholder[1]!];
      // A path the event does not have gives no value: nothing inside quotes, `null` outside (valid JSON).
      out += insideQuotes
        ? (value === undefined ? '' : typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value))
        : JSON.stringify(value ?? null);
      i += placeholder[0].length - 1;
      continue;
    }
    out += char;
  }
  return out;
}
