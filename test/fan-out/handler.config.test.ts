/**
 * Fan-out handlers: configuration validated at cold start (one ConfigError naming every problem).
 */
import { CONSUMERS, loadConsumer, loadPublisher, loadRedrive } from '../helpers/fan-out';
import { TOPIC_ARN, queueArn } from '../helpers/sqs-events';

function coldStartError(load: () => unknown): Error {
  try {
    load();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the cold start to fail');
}

describe.each(CONSUMERS.map((c) => [c]))('%s', (name) => {
  test('cold-starts with TABLE_NAME only, and with FIFO', () => {
    expect(() => loadConsumer(name, { TABLE_NAME: 't' })).not.toThrow();
    expect(() => loadConsumer(name, { TABLE_NAME: 't', FIFO: 'true' })).not.toThrow();
  });

  test('fails when TABLE_NAME is missing and FIFO is not a boolean', () => {
    const err = coldStartError(() => loadConsumer(name, { FIFO: 'yes' }));

    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('Invalid configuration: TABLE_NAME is required; FIFO must be true or false, got "yes"');
  });
});

describe('publisher', () => {
  test('cold-starts with a standard topic, and a FIFO topic with FIFO=true', () => {
    expect(() => loadPublisher({ TOPIC_ARN })).not.toThrow();
    expect(() => loadPublisher({ TOPIC_ARN: `${TOPIC_ARN}.fifo`, FIFO: 'true' })).not.toThrow();
  });

  test.each([
    [{}, 'Invalid configuration: TOPIC_ARN is required'],
    [{ TOPIC_ARN: 'order-events' }, 'Invalid configuration: TOPIC_ARN must match ^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$, got "order-events"'],
    [{ TOPIC_ARN: queueArn('q') }, /TOPIC_ARN must match/],
    [{ TOPIC_ARN, FIFO: 'true' }, `Invalid configuration: FIFO must be false for the standard topic ${TOPIC_ARN}`],
    [{ TOPIC_ARN: `${TOPIC_ARN}.fifo` }, `Invalid configuration: FIFO must be true for the FIFO topic ${TOPIC_ARN}.fifo`],
    [{ TOPIC_ARN, FIFO: 'TRUE' }, 'Invalid configuration: FIFO must be true or false, got "TRUE"'],
  ])('fails on %j', (env, message) => {
    const err = coldStartError(() => loadPublisher(env));

    expect(err.name).toBe('ConfigError');
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });
});

describe('redrive', () => {
  const ok = { audit: { deadLetterQueueArn: queueArn('audit-dlq'), sourceQueueArn: queueArn('audit') } };

  test('cold-starts with valid targets', () => {
    expect(() => loadRedrive({ REDRIVE_TARGETS: JSON.stringify(ok) })).not.toThrow();
  });

  test.each([
    [undefined, 'REDRIVE_TARGETS is required'],
    ['{nope', 'REDRIVE_TARGETS is not valid JSON'],
    ['[]', 'REDRIVE_TARGETS must be a JSON object of subscriber name -> {deadLetterQueueArn, sourceQueueArn}'],
    ['{}', 'REDRIVE_TARGETS must name at least one subscriber'],
    [JSON.stringify({ 'bad name': ok.audit }), 'REDRIVE_TARGETS is invalid: subscriber name "bad name" must match ^[A-Za-z0-9_-]{1,80}$'],
    [JSON.stringify({ audit: 'arn' }), 'REDRIVE_TARGETS is invalid: audit must be an object {deadLetterQueueArn, sourceQueueArn}'],
    [JSON.stringify({ audit: { deadLetterQueueArn: queueArn('d') } }), 'REDRIVE_TARGETS is invalid: audit.sourceQueueArn must be an SQS queue ARN, got undefined'],
    [JSON.stringify({ audit: { ...ok.audit, deadLetterQueueArn: TOPIC_ARN } }), `REDRIVE_TARGETS is invalid: audit.deadLetterQueueArn must be an SQS queue ARN, got "${TOPIC_ARN}"`],
    [JSON.stringify({ audit: { ...ok.audit, deadLetterQueueArn: queueArn('audit') } }), 'REDRIVE_TARGETS is invalid: audit.deadLetterQueueArn must differ from sourceQueueArn'],
    [JSON.stringify({ audit: { ...ok.audit, rate: 1 } }), 'REDRIVE_TARGETS is invalid: audit has unknown fields "rate"'],
  ])('fails on REDRIVE_TARGETS=%s', (value, problem) => {
    const err = coldStartError(() => loadRedrive({ REDRIVE_TARGETS: value }));

    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe(`Invalid configuration: ${problem}`);
  });
});
