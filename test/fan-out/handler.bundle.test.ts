/**
 * The pre-built bundle `assets/fan-out/audit-consumer/index.mjs` (what Lambda runs), imported in a
 * fresh `node` process as ESM and invoked with one SQS batch against a local DynamoDB engine:
 * catches bundling-only failures (the ESM `require` banner, tree-shaking of Powertools batch).
 * Build it first with `npx projen bundle` (`npm test` does).
 */
import { useDynaliteTable } from '../helpers/dynalite';
import { fanOutContext, orderEvent, publishOf } from '../helpers/fan-out';
import { builtBundle, invokeBundle } from '../helpers/fresh-node';
import { envelopeRecord, rawRecord, sqsEvent, sqsRecord } from '../helpers/sqs-events';

const BUNDLE = builtBundle('fan-out', 'audit-consumer');

async function runBundle(env: Record<string, string>, events: unknown[]) {
  return invokeBundle<unknown>(BUNDLE, events, { ...fanOutContext('audit-consumer'), getRemainingTimeInMillis: undefined }, env);
}

const db = useDynaliteTable();

test('the bundle stores a batch once, reports the poison message, and is idempotent', async () => {
  // Prepare
  const events = [orderEvent(), orderEvent({ type: 'paid' })];
  const poison = sqsRecord('{not json');
  const batch = sqsEvent([envelopeRecord(publishOf(events[0])), poison, rawRecord(publishOf(events[1]))]);

  // Act
  const { results, error } = await runBundle({ TABLE_NAME: db.tableName, AWS_ENDPOINT_URL_DYNAMODB: db.dynamo.endpoint }, [batch, batch]);

  // Assess
  expect(error).toBeUndefined();
  expect(results).toEqual([
    { batchItemFailures: [{ itemIdentifier: poison.messageId }] },
    { batchItemFailures: [{ itemIdentifier: poison.messageId }] },
  ]);
  const items = await db.dynamo.scanAll(db.tableName);
  expect(items.map((i) => i.pk.S).sort()).toEqual(events.map((e) => `AUDIT#${e.eventId}`).sort());
});

test('the bundle fails its cold start with the configuration problems', async () => {
  const { error } = await runBundle({ FIFO: '1' }, []);

  expect(error).toBe('Invalid configuration: TABLE_NAME is required; FIFO must be true or false, got "1"');
});
