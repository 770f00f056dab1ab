/**
 * Configuration of the event-driven handlers: a missing or invalid variable fails the cold start
 * with one ConfigError naming every problem and the value given.
 */
import { CONSUMER_ENV_VARS, PUBLISHER_ENV_VARS, loadConsumer, loadPublisher } from '../helpers/event-driven';
import { isolatedRequire } from '../helpers/load-handler';

const VALID_PUBLISHER = { EVENT_BUS_NAME: 'orders', EVENT_SOURCE: 'com.example.orders', ENTITY_NAME: 'order' };

function coldStartError(load: () => unknown): Error {
  try {
    load();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the cold start did not fail');
}

describe('publisher', () => {
  test('starts with the three required variables, a bus name or a bus ARN', () => {
    expect(() => loadPublisher(VALID_PUBLISHER)).not.toThrow();
    expect(() => loadPublisher({ ...VALID_PUBLISHER, EVENT_BUS_NAME: 'arn:aws:events:eu-west-1:123456789012:event-bus/orders' })).not.toThrow();
  });

  test('fails when every required variable is missing, naming each', () => {
    const err = coldStartError(() => isolatedRequire('lambda/event-driven/publisher', {}, PUBLISHER_ENV_VARS));
    expect(err.name).toBe('ConfigError');
    for (const name of ['EVENT_BUS_NAME', 'EVENT_SOURCE', 'ENTITY_NAME']) expect(err.message).toContain(`${name} is required`);
  });

  test.each([
    ['ENTITY_NAME', 'Order'],
    ['ENTITY_NAME', 'a'.repeat(41)],
    ['ENTITY_NAME', 'order.v1'],
    ['EVENT_SOURCE', 'aws.dynamodb'],
    ['EVENT_SOURCE', 'has space'],
    ['EVENT_BUS_NAME', 'arn:aws:sns:us-east-1:123456789012:topic'],
    ['EVENT_BUS_NAME', 'bad name'],
    ['MAX_PUT_ATTEMPTS', '0'],
    ['MAX_PUT_ATTEMPTS', '11'],
    ['RETRY_BASE_DELAY_MS', 'soon'],
    ['POWERTOOLS_METRICS_NAMESPACE', 'has space'],
  ])('fails when %s is %j, quoting the value', (name, value) => {
    const err = coldStartError(() => loadPublisher({ ...VALID_PUBLISHER, [name]: value }));
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(name);
    expect(err.message).toContain(JSON.stringify(value));
  });
});

describe('projection consumer', () => {
  test('starts with TABLE_NAME', () => {
    expect(() => loadConsumer({ TABLE_NAME: 'projection' })).not.toThrow();
  });

  test('fails without TABLE_NAME', () => {
    const err = coldStartError(() => isolatedRequire('lambda/event-driven/projection-consumer', {}, CONSUMER_ENV_VARS));
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain('TABLE_NAME is required');
  });

  test.each([['TABLE_NAME', 'a b'], ['TOMBSTONE_RETENTION_DAYS', '0'], ['TOMBSTONE_RETENTION_DAYS', '3651']])('fails when %s is %j', (name, value) => {
    const err = coldStartError(() => loadConsumer({ TABLE_NAME: 'projection', [name]: value }));
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(name);
  });
});
