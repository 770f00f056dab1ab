/** Stream processor: configuration validated at cold start. */
import type { ConfigError } from '../../lambda/shared/config';
import type { Env } from '../helpers/load-handler';
import { TEST_QUEUE_URL, loadStreamProcessor } from '../helpers/stream-processor';

function coldStartError(env: Env): ConfigError {
  try {
    loadStreamProcessor(env);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected the cold start to fail');
}

test('a minimal configuration cold-starts', () => {
  expect(typeof loadStreamProcessor({ TABLE_NAME: 't', REJECTED_QUEUE_URL: TEST_QUEUE_URL }).handler).toBe('function');
});

test('fails when TABLE_NAME and REJECTED_QUEUE_URL are missing', () => {
  const err = coldStartError({});

  expect(err.name).toBe('ConfigError');
  expect(err.message).toBe('Invalid configuration: TABLE_NAME is required; REJECTED_QUEUE_URL is required');
});

test('fails with one error listing every bad variable and the value given', () => {
  const err = coldStartError({
    TABLE_NAME: 't',
    REJECTED_QUEUE_URL: 'rejected-records',
    MAX_PARALLEL_WRITES: '0',
    COUNT_SHARDS: '101',
    MAX_PAYLOAD_BYTES: 'lots',
  });

  expect(err.problems).toEqual([
    'REJECTED_QUEUE_URL must match ^https?:\\/\\/[^\\s/]+\\/\\S+$, got "rejected-records"',
    'MAX_PARALLEL_WRITES must be an integer in 1..100, got "0"',
    'COUNT_SHARDS must be an integer in 1..100, got "101"',
    'MAX_PAYLOAD_BYTES must be an integer in 1..307200, got "lots"',
  ]);
});

test.each([
  ['MAX_PARALLEL_WRITES', '100'],
  ['MAX_PARALLEL_WRITES', '1'],
  ['COUNT_SHARDS', '16'],
  ['MAX_PAYLOAD_BYTES', '307200'],
])('accepts %s=%s', (name, value) => {
  expect(typeof loadStreamProcessor({ TABLE_NAME: 't', REJECTED_QUEUE_URL: TEST_QUEUE_URL, [name]: value }).handler).toBe('function');
});
