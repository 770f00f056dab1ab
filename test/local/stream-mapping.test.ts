/**
 * StreamMapping (local/triggers/stream-mapping.ts), the Kinesis and DynamoDB Streams event source
 * mapping, against the Lambda developer guide ("How Lambda processes records from Amazon Kinesis
 * Data Streams", "... from DynamoDB Streams", "Implementing partial batch responses",
 * "Configuring destinations for event source mappings", "Lambda event filtering"): batches per
 * shard, in order, of at most BatchSize records; ReportBatchItemFailures checkpoints; retries
 * until MaximumRetryAttempts, then the batch's description to the on-failure destination;
 * bisection; filters; LATEST; `settled()`.
 *
 * The shards are an in-memory implementation of the runner's own ShardReader port, and the
 * function is the test's `invoke` callback. Retries are paced by a short backoff, so the tests
 * keep retry counts small; no assertion depends on how long anything takes.
 */
import type { InvokeOutcome } from '../../local/functions';
import { type ShardReader, type ShardRecord, StreamMapping, type StreamMappingDefinition } from '../../local/triggers/stream-mapping';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
const TABLE_STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:processor';
const DESTINATION_ARN = 'arn:aws:sqs:us-east-1:123456789012:processor-failures';

/** Shards held in arrays, read as a stream is: after a sequence number, up to a limit. */
class MemoryShards implements ShardReader {
  private readonly shards = new Map<string, ShardRecord[]>();
  private next = 1;
  /** How many times each shard was read. */
  public readonly reads = new Map<string, number>();

  constructor(private readonly kind: 'kinesis' | 'dynamodb', shardIds: readonly string[]) {
    for (const id of shardIds) this.shards.set(id, []);
  }

  /** Appends a record (Kinesis: `data` is the payload, JSON-encoded unless a string) and returns its sequence number. */
  public put(shardId: string, data: unknown): string {
    const sequence = String(49_000_000 + this.next++);
    const arrival = 1_767_225_600 + this.next; // 2026-01-01T00:00:00Z onwards, one second apart
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    const record = this.kind === 'kinesis'
      ? {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'pk',
          sequenceNumber: sequence,
          data: Buffer.from(text).toString('base64'),
          approximateArrivalTimestamp: arrival,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${sequence}`,
        eventName: 'aws:kinesis:record',
        awsRegion: 'us-east-1',
        eventSourceARN: STREAM_ARN,
      }
      : {
        eventID: `event-${sequence}`,
        eventName: (data as { eventName?: string }).eventName ?? 'INSERT',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: { Keys: { pk: { S: sequence } }, SequenceNumber: sequence, ApproximateCreationDateTime: arrival, StreamViewType: 'NEW_IMAGE' },
        eventSourceARN: TABLE_STREAM_ARN,
      };
    this.shards.get(shardId)!.push({ sequence, record, arrival });
    return sequence;
  }

  public async shardIds(): Promise<string[]> {
    return [...this.shards.keys()];
  }

  public async read(shardId: string, after: string | undefined, limit: number): Promise<ShardRecord[]> {
    this.reads.set(shardId, (this.reads.get(shardId) ?? 0) + 1);
    const records = this.shards.get(shardId) ?? [];
    const from = after === undefined ? 0 : records.findIndex((r) => BigInt(r.sequence) > BigInt(after));
    return from < 0 ? [] : records.slice(from, from + limit);
  }

  public async latest(shardId: string): Promise<string | undefined> {
    return this.shards.get(shardId)?.at(-1)?.sequence;
  }
}

interface Invocation {
  readonly shard: string;
  readonly sequences: string[];
  readonly records: unknown[];
}

/** Where a record came from and its sequence number, for either kind. */
function identify(record: unknown): { shard: string; sequence: string } {
  const r = record as { kinesis?: { sequenceNumber: string }; eventID: string; dynamodb?: { SequenceNumber: string } };
  if (r.kinesis !== undefined) return { shard: r.eventID.split(':')[0]!, sequence: r.kinesis.sequenceNumber };
  return { shard: 'shardId-ddb', sequence: r.dynamodb!.SequenceNumber };
}

const mappings: StreamMapping[] = [];

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((m) => m.stop()));
});

interface Harness {
  readonly mapping: StreamMapping;
  readonly invocations: Invocation[];
  readonly failures: Array<{ arn: string; body: Record<string, unknown> }>;
  readonly logged: string[];
}

/** Starts a mapping whose function answers with `answer` (success when it returns undefined). */
async function startMapping(
  shards: MemoryShards,
  definition: Partial<StreamMappingDefinition>,
  answer: (invocation: Invocation, attempt: number) => InvokeOutcome | Promise<InvokeOutcome> | undefined = () => undefined,
): Promise<Harness> {
  const invocations: Invocation[] = [];
  const failures: Harness['failures'] = [];
  const logged: string[] = [];
  const mapping = new StreamMapping({
    kind: 'kinesis',
    sourceArn: STREAM_ARN,
    functionArn: FUNCTION_ARN,
    batchSize: 100,
    startingPosition: 'TRIM_HORIZON',
    bisectOnError: false,
    maximumRetryAttempts: -1,
    reportBatchItemFailures: false,
    filters: [],
    ...definition,
  }, shards, {
    invoke: async (functionArn, event) => {
      expect(functionArn).toBe(FUNCTION_ARN);
      const records = (event as { Records: unknown[] }).Records;
      const ids = records.map(identify);
      const invocation = { shard: ids[0]!.shard, sequences: ids.map((i) => i.sequence), records };
      invocations.push(invocation);
      const attempt = invocations.filter((i) => i.sequences.join() === invocation.sequences.join()).length;
      return (await answer(invocation, attempt)) ?? { ok: true, payload: null };
    },
    deliverFailure: async (arn, body) => {
      failures.push({ arn, body: JSON.parse(body) as Record<string, unknown> });
    },
    log: (line) => logged.push(line),
  });
  mappings.push(mapping);
  await mapping.start();
  return { mapping, invocations, failures, logged };
}

const failed = (message = 'boom'): InvokeOutcome => ({ ok: false, errorType: 'Error', errorMessage: message });
const reportFailures = (...ids: unknown[]): InvokeOutcome =>
  ({ ok: true, payload: { batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) } });
const sequencesOf = (invocations: readonly Invocation[], shard?: string): string[][] =>
  invocations.filter((i) => shard === undefined || i.shard === shard).map((i) => i.sequences);

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('batches', () => {
  test('each shard is read in order, in batches of at most BatchSize records', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A', 'shardId-B']);
    const a = [1, 2, 3, 4, 5].map((n) => shards.put('shardId-A', { n }));
    const b = [1, 2, 3].map((n) => shards.put('shardId-B', { n }));
    const { mapping, invocations } = await startMapping(shards, { batchSize: 2 });
    await mapping.settled();

    expect(sequencesOf(invocations, 'shardId-A')).toEqual([[a[0], a[1]], [a[2], a[3]], [a[4]]]);
    expect(sequencesOf(invocations, 'shardId-B')).toEqual([[b[0], b[1]], [b[2]]]);
    expect(invocations.every((i) => i.sequences.every((s) => (i.shard === 'shardId-A' ? a : b).includes(s)))).toBe(true);

    // Records written later are read from where the shard left off.
    const later = shards.put('shardId-A', { n: 6 });
    await mapping.settled();
    expect(sequencesOf(invocations, 'shardId-A').at(-1)).toEqual([later]);
  });

  test('the function receives { Records } with the records as the stream gave them', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    shards.put('shardId-A', { order: 1 });
    const { mapping, invocations } = await startMapping(shards, {});
    await mapping.settled();
    expect(invocations[0]!.records).toEqual([expect.objectContaining({
      eventSource: 'aws:kinesis',
      kinesis: expect.objectContaining({ data: Buffer.from('{"order":1}').toString('base64') }),
    })]);
  });

  test('StartingPosition LATEST starts after the records already in the shard', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A', 'shardId-Empty']);
    [1, 2, 3].forEach((n) => shards.put('shardId-A', { n }));
    const { mapping, invocations } = await startMapping(shards, { startingPosition: 'LATEST' });
    const fresh = shards.put('shardId-A', { n: 4 });
    const first = shards.put('shardId-Empty', { n: 1 });
    await mapping.settled();
    expect(sequencesOf(invocations, 'shardId-A')).toEqual([[fresh]]);
    expect(sequencesOf(invocations, 'shardId-Empty')).toEqual([[first]]);
  });
});

describe('ReportBatchItemFailures', () => {
  test('the shard resumes from the lowest sequence number reported', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const s = [1, 2, 3, 4, 5].map((n) => shards.put('shardId-A', { n }));
    const { mapping, invocations, failures } = await startMapping(shards, { reportBatchItemFailures: true }, (invocation, attempt) =>
      (invocation.sequences.length === 5 && attempt === 1 ? reportFailures(s[3], s[1]) : undefined));
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([s, s.slice(1)]);
    expect(failures).toHaveLength(0);
  });

  test('an identifier that is not in the batch, empty, null or under a bad key fails the whole batch', async () => {
    const answers: InvokeOutcome[] = [
      reportFailures('not-a-sequence-number'),
      reportFailures(''),
      reportFailures(null),
      { ok: true, payload: { batchItemFailures: [{ ItemIdentifier: 'bad key' }] } },
      { ok: true, payload: { batchItemFailures: [null] } },
    ];
    for (const answer of answers) {
      const shards = new MemoryShards('kinesis', ['shardId-A']);
      const s = [1, 2, 3].map((n) => shards.put('shardId-A', { n }));
      const { mapping, invocations } = await startMapping(
        shards, { reportBatchItemFailures: true }, (_, attempt) => (attempt === 1 ? answer : undefined));
      await mapping.settled();
      expect(sequencesOf(invocations)).toEqual([s, s]);
      await mapping.stop();
    }
  });

  test('an empty or absent batchItemFailures is a success; without ReportBatchItemFailures the answer is not read', async () => {
    for (const [report, payload] of [[true, { batchItemFailures: [] }], [true, {}], [true, null], [false, { batchItemFailures: [{ itemIdentifier: 'x' }] }]] as const) {
      const shards = new MemoryShards('kinesis', ['shardId-A']);
      const s = [1, 2].map((n) => shards.put('shardId-A', { n }));
      const { mapping, invocations } = await startMapping(shards, { reportBatchItemFailures: report }, () => ({ ok: true, payload }));
      await mapping.settled();
      expect(sequencesOf(invocations)).toEqual([s]);
      await mapping.stop();
    }
  });
});

describe('errors, retries and the on-failure destination', () => {
  test('a failing batch is retried MaximumRetryAttempts times, then described to the destination, and the shard moves on', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const s = [1, 2, 3].map((n) => shards.put('shardId-A', { n }));
    const { mapping, invocations, failures } = await startMapping(
      shards,
      { batchSize: 2, maximumRetryAttempts: 1, onFailureArn: DESTINATION_ARN },
      (invocation) => (invocation.sequences.includes(s[0]!) ? failed() : undefined),
    );
    await mapping.settled();

    expect(sequencesOf(invocations)).toEqual([[s[0], s[1]], [s[0], s[1]], [s[2]]]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.arn).toBe(DESTINATION_ARN);
    expect(failures[0]!.body).toEqual({
      requestContext: { requestId: expect.any(String), functionArn: FUNCTION_ARN, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: 'shardId-A',
        startSequenceNumber: s[0],
        endSequenceNumber: s[1],
        approximateArrivalOfFirstRecord: expect.stringMatching(/^2026-01-01T00:00:0\d\.000Z$/),
        approximateArrivalOfLastRecord: expect.stringMatching(/^2026-01-01T00:00:0\d\.000Z$/),
        batchSize: 2,
        streamArn: STREAM_ARN,
      },
    });
    expect(mapping.failedBatches).toEqual([failures[0]!.body]);
  });

  test('MaximumRetryAttempts 0: one invocation, then the destination', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const s = shards.put('shardId-A', { n: 1 });
    const { mapping, invocations, failures } = await startMapping(shards, { maximumRetryAttempts: 0, onFailureArn: DESTINATION_ARN }, () => failed());
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([[s]]);
    expect(failures[0]!.body).toMatchObject({
      requestContext: { approximateInvokeCount: 1 },
      KinesisBatchInfo: { startSequenceNumber: s, endSequenceNumber: s, batchSize: 1 },
    });
  });

  test('a DynamoDB stream batch is described as DDBStreamBatchInfo', async () => {
    const shards = new MemoryShards('dynamodb', ['shardId-ddb']);
    const s = [1, 2].map(() => shards.put('shardId-ddb', { eventName: 'INSERT' }));
    const { mapping, failures } = await startMapping(
      shards,
      { kind: 'dynamodb', sourceArn: TABLE_STREAM_ARN, maximumRetryAttempts: 0, onFailureArn: DESTINATION_ARN },
      () => failed(),
    );
    await mapping.settled();
    expect(failures).toHaveLength(1);
    expect(failures[0]!.body).not.toHaveProperty('KinesisBatchInfo');
    expect(failures[0]!.body.DDBStreamBatchInfo).toEqual({
      shardId: 'shardId-ddb',
      startSequenceNumber: s[0],
      endSequenceNumber: s[1],
      approximateArrivalOfFirstRecord: expect.any(String),
      approximateArrivalOfLastRecord: expect.any(String),
      batchSize: 2,
      streamArn: TABLE_STREAM_ARN,
    });
  });

  test('batches reported failed until the retries run out go to the destination without functionError', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const s = [1, 2].map((n) => shards.put('shardId-A', { n }));
    const { mapping, invocations, failures } = await startMapping(
      shards,
      { reportBatchItemFailures: true, maximumRetryAttempts: 1, onFailureArn: DESTINATION_ARN },
      (invocation) => reportFailures(invocation.sequences[0]),
    );
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([s, s]);
    expect(failures[0]!.body).toMatchObject({ responseContext: { statusCode: 200, executedVersion: '$LATEST' }, KinesisBatchInfo: { batchSize: 2 } });
    expect(failures[0]!.body.responseContext).not.toHaveProperty('functionError');
  });

  test('without an on-failure destination the batch is logged, and the shard moves on', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const s = [1, 2].map((n) => shards.put('shardId-A', { n }));
    const { mapping, invocations, failures, logged } = await startMapping(
      shards,
      { batchSize: 1, maximumRetryAttempts: 0 },
      (invocation) => (invocation.sequences[0] === s[0] ? failed() : undefined),
    );
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([[s[0]], [s[1]]]);
    expect(failures).toHaveLength(0);
    expect(logged.join('\n')).toMatch(/gave up on 1 records of shardId-A \(no on-failure destination\)/);
  });

  test('BisectBatchOnFunctionError splits failing batches until the poison record is alone', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const s = [1, 2, 3, 4].map((n) => shards.put('shardId-A', { n }));
    const poison = s[2]!;
    const { mapping, invocations, failures } = await startMapping(
      shards,
      { bisectOnError: true, maximumRetryAttempts: 1, onFailureArn: DESTINATION_ARN },
      (invocation) => (invocation.sequences.includes(poison) ? failed('poison') : undefined),
    );
    await mapping.settled();

    expect(failures.map((f) => f.body.KinesisBatchInfo)).toEqual([
      expect.objectContaining({ startSequenceNumber: poison, endSequenceNumber: poison, batchSize: 1 }),
    ]);
    const succeeded = invocations.filter((i) => !i.sequences.includes(poison)).map((i) => i.sequences);
    expect(succeeded.flat()).toEqual([s[0], s[1], s[3]]);
    expect(invocations.filter((i) => i.sequences.length === 1 && i.sequences[0] === poison)).toHaveLength(2); // the first try and one retry
    expect(invocations[0]!.sequences).toEqual(s);
  });
});

describe('FilterCriteria', () => {
  test('Kinesis data is matched as JSON; records no filter matches never reach the function', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const order = shards.put('shardId-A', { type: 'order', total: 120 });
    shards.put('shardId-A', { type: 'refund', total: 5 });
    shards.put('shardId-A', 'not json at all');
    const small = shards.put('shardId-A', { type: 'order', total: 3 });
    const { mapping, invocations } = await startMapping(shards, {
      filters: [{ data: { type: ['order'], total: [{ numeric: ['>', 100] }] } }, { data: { total: [{ numeric: ['<', 4] }] } }],
    });
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([[order, small]]);
    // The function still gets the record as the stream has it: data base64-encoded.
    expect((invocations[0]!.records[0] as { kinesis: { data: string } }).kinesis.data).toBe(Buffer.from('{"type":"order","total":120}').toString('base64'));
  });

  test('a batch that filters down to nothing is skipped, and the shard moves on', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    [1, 2].forEach((n) => shards.put('shardId-A', { type: 'noise', n }));
    const { mapping, invocations } = await startMapping(shards, { batchSize: 2, filters: [{ data: { type: ['order'] } }] });
    await mapping.settled();
    const wanted = shards.put('shardId-A', { type: 'order' });
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([[wanted]]);
  });

  test('DynamoDB records are matched as they are', async () => {
    const shards = new MemoryShards('dynamodb', ['shardId-ddb']);
    const inserted = shards.put('shardId-ddb', { eventName: 'INSERT' });
    shards.put('shardId-ddb', { eventName: 'REMOVE' });
    const { mapping, invocations } = await startMapping(shards, { kind: 'dynamodb', sourceArn: TABLE_STREAM_ARN, filters: [{ eventName: ['INSERT', 'MODIFY'] }] });
    await mapping.settled();
    expect(sequencesOf(invocations)).toEqual([[inserted]]);
  });
});

describe('settled()', () => {
  test('waits for the batch in flight, however long other shards have been idle', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-Busy', 'shardId-Idle']);
    const s = shards.put('shardId-Busy', { n: 1 });
    let finish: (outcome: InvokeOutcome) => void = () => {};
    const { mapping, invocations } = await startMapping(shards, {}, () => new Promise<InvokeOutcome>((resolve) => { finish = resolve; }));
    await until(() => invocations.length === 1);

    let settled = false;
    const settling = mapping.settled().then(() => { settled = true; });
    // The idle shard is read again and again (idle cycles) while the busy one's batch is in flight.
    const readsBefore = shards.reads.get('shardId-Idle') ?? 0;
    await until(() => (shards.reads.get('shardId-Idle') ?? 0) >= readsBefore + 4);
    expect(settled).toBe(false);

    finish({ ok: true, payload: null });
    await settling;
    expect(sequencesOf(invocations)).toEqual([[s]]);
  });

  test('resolves for a mapping with nothing to read', async () => {
    const shards = new MemoryShards('kinesis', ['shardId-A']);
    const { mapping, invocations } = await startMapping(shards, {});
    await mapping.settled();
    expect(invocations).toHaveLength(0);
  });
});
