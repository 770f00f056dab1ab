/**
 * Asynchronous invocations and filters through the runner, on a stack built here with plain CDK
 * constructs and inline code (so the functions' `Code.ZipFile` path runs too):
 * - an EventBridge rule invokes its function asynchronously: the function's error is retried by
 *   Lambda (three attempts in all) and the event then lands in the function's dead-letter queue,
 *   not in the rule target's (which only gets events that could not be delivered);
 * - an SQS mapping's filter: the messages no filter matches are deleted without an invocation;
 * - a function's call to an AWS domain is refused, never sent.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { useLocalStack } from '../helpers/local-runner';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Logical ids of the resources the tests read, taken while the stack is built. */
const ids: Record<string, string> = {};
const logicalIdOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

describe('asynchronous invocations and filters, run locally', () => {
  const running = useLocalStack((app) => {
    const stack = new Stack(app, 'AsyncInvocations');
    const failing = new lambda.Function(stack, 'Failing', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline("exports.handler = async (event) => { console.log('attempt', event.id); throw new Error('always fails'); };"),
      deadLetterQueueEnabled: true,
    });
    const targetDlq = new sqs.Queue(stack, 'TargetDeadLetters');
    ids.failing = logicalIdOf(stack, failing);
    ids.functionDlq = logicalIdOf(stack, failing.deadLetterQueue!);
    ids.targetDlq = logicalIdOf(stack, targetDlq);
    new events.Rule(stack, 'Rule', {
      eventPattern: { source: ['test.async'] },
      targets: [new targets.LambdaFunction(failing, { deadLetterQueue: targetDlq })],
    });

    const queue = new sqs.Queue(stack, 'Work', { visibilityTimeout: Duration.seconds(30) });
    const consumer = new lambda.Function(stack, 'Consumer', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline("exports.handler = async (event) => { for (const r of event.Records) console.log('consumed', r.body); };"),
    });
    ids.queue = logicalIdOf(stack, queue);
    const keepOnly = lambda.FilterCriteria.filter({ body: { keep: lambda.FilterRule.isEqual(true) } });
    consumer.addEventSource(new sources.SqsEventSource(queue, { filters: [keepOnly] }));

    // A queue without a dead-letter queue, and a consumer that always fails: it never settles.
    const poison = new sqs.Queue(stack, 'PoisonWithoutDlq');
    ids.poison = logicalIdOf(stack, poison);
    new lambda.Function(stack, 'AlwaysFails', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline("exports.handler = async () => { throw new Error('never'); };"),
    }).addEventSource(new sources.SqsEventSource(poison));

    const caller = new lambda.Function(stack, 'Caller', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline("exports.handler = async () => { try { await fetch('https://s3.us-east-1.amazonaws.com/'); return 'reached AWS'; } catch (e) { return String(e.cause?.message ?? e.message); } };"),
    });
    ids.caller = logicalIdOf(stack, caller);
    return stack;
  });

  const client = <T>(make: (config: { endpoint: string; region: string; credentials: typeof credentials }) => T, service: string): T => {
    const env = running.local.clientEnvironment();
    return make({ endpoint: env[`AWS_ENDPOINT_URL_${service}`]!, region: env.AWS_REGION!, credentials });
  };

  test('a rule\'s failing function is retried by Lambda, then the event goes to the function\'s dead-letter queue', async () => {
    const bus = client((c) => new EventBridgeClient(c), 'EVENTBRIDGE');
    const queues = client((c) => new SQSClient(c), 'SQS');
    try {
      const put = await bus.send(new PutEventsCommand({ Entries: [{ Source: 'test.async', DetailType: 'x', Detail: '{"n":1}' }] }));
      await running.local.settled();

      expect(put.FailedEntryCount).toBe(0);
      expect(running.local.invocations(ids.failing!)).toBe(3);
      const dead = await queues.send(new ReceiveMessageCommand({ QueueUrl: running.local.ref(ids.functionDlq!), MaxNumberOfMessages: 10 }));
      expect(dead.Messages?.map((m) => (JSON.parse(m.Body!) as { id: string }).id)).toEqual([put.Entries![0]!.EventId]);
      const targetDead = await queues.send(new ReceiveMessageCommand({ QueueUrl: running.local.ref(ids.targetDlq!), MaxNumberOfMessages: 10 }));
      expect(targetDead.Messages ?? []).toEqual([]);
    } finally {
      bus.destroy();
      queues.destroy();
    }
  });

  test('an SQS mapping\'s filter: messages no filter matches are deleted without an invocation', async () => {
    const queues = client((c) => new SQSClient(c), 'SQS');
    try {
      const url = running.local.ref(ids.queue!);
      await queues.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ keep: true, n: 'kept-1' }) }));
      await queues.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ keep: false, n: 'dropped-1' }) }));
      await queues.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'not json' }));
      await running.local.settled();

      const consumed = running.lines.filter((line) => line.includes('consumed'));
      expect(consumed.some((line) => line.includes('kept-1'))).toBe(true);
      expect(consumed.some((line) => line.includes('dropped-1') || line.includes('not json'))).toBe(false);
      const left = await queues.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      expect(left.Messages ?? []).toEqual([]);
    } finally {
      queues.destroy();
    }
  });

  test('a function\'s call to an AWS domain is refused, never sent', async () => {
    const outcome = await running.local.invoke(ids.caller!, {});
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.ok && outcome.payload).toMatch(/never calls AWS/);
  });

  test('settled() with a timeout fails, naming the queue, when a message can never settle', async () => {
    const queues = client((c) => new SQSClient(c), 'SQS');
    try {
      await queues.send(new SendMessageCommand({ QueueUrl: running.local.ref(ids.poison!), MessageBody: 'poison' }));
      await expect(running.local.settled({ timeoutMs: 300 })).rejects.toThrow(/not settled after 300 ms.*PoisonWithoutDlq/);
    } finally {
      queues.destroy();
    }
  });
});
