/**
 * Fan-out DLQ redrive: the exact SQS requests (aws-sdk-client-mock on the handler's own SQSClient
 * class), request validation and unknown subscribers.
 */
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { loadRedrive } from '../helpers/fan-out';
import { queueArn } from '../helpers/sqs-events';

const TARGETS = {
  'audit': { deadLetterQueueArn: queueArn('audit-dlq'), sourceQueueArn: queueArn('audit') },
  'high-value': { deadLetterQueueArn: queueArn('high-value-dlq.fifo'), sourceQueueArn: queueArn('high-value.fifo') },
};

let r: ReturnType<typeof loadRedrive>;
let sqs: AwsStub<any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  r = loadRedrive({ REDRIVE_TARGETS: JSON.stringify(TARGETS) });
  sqs = mockClient(r.clientSqs.SQSClient);
});

beforeEach(() => {
  sqs.reset();
});

afterAll(() => {
  sqs.restore();
});

test('starts a message move task from the DLQ to its source queue', async () => {
  sqs.on(r.clientSqs.StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });

  const result = await r.invoke({ subscriber: 'audit' });

  expect(sqs.calls()).toHaveLength(1);
  expect(sqs.commandCalls(r.clientSqs.StartMessageMoveTaskCommand)[0].args[0].input).toEqual({
    SourceArn: TARGETS.audit.deadLetterQueueArn,
    DestinationArn: TARGETS.audit.sourceQueueArn,
  });
  expect(result).toEqual({ subscriber: 'audit', action: 'start', taskHandle: 'task-1', sourceArn: TARGETS.audit.deadLetterQueueArn, destinationArn: TARGETS.audit.sourceQueueArn });
});

test('passes the rate limit', async () => {
  sqs.on(r.clientSqs.StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-2' });

  await r.invoke({ subscriber: 'high-value', action: 'start', maxMessagesPerSecond: 25 });

  expect(sqs.commandCalls(r.clientSqs.StartMessageMoveTaskCommand)[0].args[0].input).toEqual({
    SourceArn: TARGETS['high-value'].deadLetterQueueArn,
    DestinationArn: TARGETS['high-value'].sourceQueueArn,
    MaxNumberOfMessagesPerSecond: 25,
  });
});

test('status lists the move tasks of the DLQ', async () => {
  sqs.on(r.clientSqs.ListMessageMoveTasksCommand).resolves({
    Results: [{
      TaskHandle: 'task-1',
      Status: 'RUNNING',
      SourceArn: TARGETS.audit.deadLetterQueueArn,
      DestinationArn: TARGETS.audit.sourceQueueArn,
      ApproximateNumberOfMessagesMoved: 3,
      ApproximateNumberOfMessagesToMove: 10,
      StartedTimestamp: 1738324800000,
    }],
  });

  const result = await r.invoke({ subscriber: 'audit', action: 'status' });

  expect(sqs.commandCalls(r.clientSqs.ListMessageMoveTasksCommand)[0].args[0].input).toEqual({
    SourceArn: TARGETS.audit.deadLetterQueueArn,
    MaxResults: 10,
  });
  expect(result).toEqual({
    subscriber: 'audit',
    action: 'status',
    tasks: [{
      taskHandle: 'task-1',
      status: 'RUNNING',
      sourceArn: TARGETS.audit.deadLetterQueueArn,
      destinationArn: TARGETS.audit.sourceQueueArn,
      approximateNumberOfMessagesMoved: 3,
      approximateNumberOfMessagesToMove: 10,
      startedAt: '2025-01-31T12:00:00.000Z',
    }],
  });
});

test('an unknown subscriber is an UnknownSubscriberError naming the known ones', async () => {
  const err = await r.invoke({ subscriber: 'projection' }).catch((e: unknown) => e as Error);

  expect(err.name).toBe('UnknownSubscriberError');
  expect(err.message).toBe('Unknown subscriber "projection"; known subscribers: audit, high-value');
  expect(sqs.calls()).toHaveLength(0);
});

test.each([
  ['toString', /Unknown subscriber "toString"/],
  ['__proto__', /Unknown subscriber "__proto__"/],
])('inherited names such as %s are unknown', async (subscriber, message) => {
  await expect(r.invoke({ subscriber })).rejects.toThrow(message);
});

test.each([
  ['no subscriber', {}, '/subscriber must be a non-empty string'],
  ['a bad action', { subscriber: 'audit', action: 'purge' }, '/action must be start or status'],
  ['a rate of 0', { subscriber: 'audit', maxMessagesPerSecond: 0 }, '/maxMessagesPerSecond must be an integer in 1..500'],
  ['a rate of 501', { subscriber: 'audit', maxMessagesPerSecond: 501 }, '/maxMessagesPerSecond must be an integer in 1..500'],
  ['a rate with status', { subscriber: 'audit', action: 'status', maxMessagesPerSecond: 5 }, '/maxMessagesPerSecond applies to the start action only'],
  ['an extra field', { subscriber: 'audit', queue: 'x' }, '/queue is not an allowed field'],
  ['not an object', 'audit', '/ must be an object {subscriber, action?, maxMessagesPerSecond?}'],
])('fails with RedriveRequestError on %s', async (_name, payload, problem) => {
  const err = await r.invoke(payload).catch((e: unknown) => e as Error);

  expect(err.name).toBe('RedriveRequestError');
  expect(err.message).toBe(`Invalid redrive request: ${problem}`);
  expect(sqs.calls()).toHaveLength(0);
});
