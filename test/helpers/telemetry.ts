/**
 * Telemetry events for the stream processor tests, an independent model of the state they must
 * produce (exact per-source, per-minute counts of distinct ids; latest = max (timestamp, id)),
 * and a reader of that state from the table (summing the count shards of each minute).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export interface TelemetryInput {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly timestamp: string | number;
  readonly payload: Record<string, unknown>;
}

export interface ExpectedState {
  /** `source|YYYY-MM-DDTHH:MM` -> count of distinct ids */
  readonly counts: Record<string, number>;
  /** source -> { id, epochMillis } of the latest event */
  readonly latest: Record<string, { id: string; epochMillis: number }>;
}

function toMillis(timestamp: string | number): number {
  return typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
}

/** A small deterministic PRNG (Park-Miller) so that failures reproduce. */
export function prng(seed: number): () => number {
  let state = (Math.abs(Math.floor(seed)) % 2_147_483_646) + 1;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return (state - 1) / 2_147_483_646;
  };
}

export const BASE_TIME = Date.UTC(2025, 0, 31, 12, 0, 0);

/**
 * `n` events over `sources` sources, roughly in time order over `minutes` minutes (with a few
 * seconds of jitter, so minutes interleave at their borders), half with ISO timestamps.
 */
export function telemetryEvents(n: number, options: { sources: number; minutes: number; seed: number; idPrefix?: string }): TelemetryInput[] {
  const random = prng(options.seed);
  const events: TelemetryInput[] = [];
  for (let i = 0; i < n; i++) {
    const source = `sensor-${i % options.sources}.site/a`;
    const ms = BASE_TIME + Math.floor((i / n) * options.minutes * 60_000) + Math.floor((random() - 0.5) * 10_000);
    events.push({
      id: `${options.idPrefix ?? 'e'}-${i.toString(36)}-${Math.floor(random() * 1e9).toString(36)}`,
      source,
      type: random() < 0.5 ? 'temperature' : 'humidity',
      timestamp: i % 2 === 0 ? new Date(ms).toISOString() : ms,
      payload: { value: Math.round(random() * 1000) / 10, seq: i, tags: ['a', 'b'], nested: { ok: true } },
    });
  }
  return events;
}

export function expectedState(events: readonly TelemetryInput[]): ExpectedState {
  const ids = new Map<string, Set<string>>();
  const latest: Record<string, { id: string; epochMillis: number }> = {};
  for (const e of events) {
    const ms = toMillis(e.timestamp);
    const key = `${e.source}|${new Date(ms).toISOString().slice(0, 16)}`;
    let set = ids.get(key);
    if (!set) ids.set(key, (set = new Set()));
    set.add(e.id);
    const current = latest[e.source];
    if (!current || ms > current.epochMillis || (ms === current.epochMillis && e.id > current.id)) latest[e.source] = { id: e.id, epochMillis: ms };
  }
  return { counts: Object.fromEntries([...ids].map(([k, s]) => [k, s.size])), latest };
}

/** The state as a reader sees it: count shards summed per minute; checks eventCount = |counted|. */
export function stateFromItems(items: ReadonlyArray<Record<string, AttributeValue>>): ExpectedState {
  const counts: Record<string, number> = {};
  const latest: Record<string, { id: string; epochMillis: number }> = {};
  for (const raw of items) {
    const item = {
      pk: raw.pk?.S,
      sk: raw.sk?.S,
      id: raw.id?.S,
      minute: raw.minute?.S,
      epochMillis: raw.epochMillis?.N,
      eventCount: raw.eventCount?.N,
      counted: new Set(raw.counted?.SS ?? []),
    };
    const pk = String(item.pk);
    const sk = String(item.sk);
    if (!pk.startsWith('SOURCE#')) throw new Error(`unexpected item ${pk}`);
    const source = pk.slice('SOURCE#'.length);
    if (sk === 'LATEST') {
      latest[source] = { id: String(item.id), epochMillis: Number(item.epochMillis) };
    } else if (sk.startsWith('COUNT#')) {
      const minute = sk.slice('COUNT#'.length, sk.lastIndexOf('#'));
      if (item.minute !== minute) throw new Error(`count item ${sk} has minute ${item.minute}`);
      const counted = item.counted;
      if (Number(item.eventCount) !== counted.size) throw new Error(`count item ${pk} ${sk}: eventCount ${item.eventCount} != ${counted.size} ids`);
      const key = `${source}|${minute}`;
      counts[key] = (counts[key] ?? 0) + Number(item.eventCount);
    } else {
      throw new Error(`unexpected item ${pk} ${sk}`);
    }
  }
  return { counts, latest };
}
