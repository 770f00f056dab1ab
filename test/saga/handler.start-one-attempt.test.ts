/**
 * The starter's Step Functions client makes ONE attempt per start, counted where it lands: a
 * loopback endpoint (`AWS_ENDPOINT_URL_SFN`) that reads each request and then resets the
 * connection or never answers. A mocked `send` cannot show this (the SDK's retries run below it).
 * Express: one request, whatever the fault; STANDARD: the handler's own budget of 3, not 3 x 3.
 */
import { createServer, type Server } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { listenOnLoopback } from '../../local/engines/loopback';
import { jsonBody, lambdaContext } from '../helpers/api-gateway-events';
import { useDynaliteTable } from '../helpers/dynalite';
import { isolatedRequire } from '../helpers/load-handler';
import { startEvent } from '../helpers/saga';

const db = useDynaliteTable();
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Saga';
const order = (sku: string) => ({ orderId: `o-${sku}`, customerId: 'c-1', sku, quantity: 1, amount: 900 });

type Behaviour = 'reset' | 'hang';
let behaviour: Behaviour = 'reset';
const received: string[] = [];
let server: Server;
let savedEndpoint: string | undefined;

beforeAll(async () => {
  server = createServer((req) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['x-amz-target']));
      if (behaviour === 'reset') req.socket.destroy();
      // 'hang': no answer; the client's request timeout ends the call.
    });
  });
  savedEndpoint = process.env.AWS_ENDPOINT_URL_SFN;
  process.env.AWS_ENDPOINT_URL_SFN = await listenOnLoopback(server);
});
afterAll(async () => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SFN;
  else process.env.AWS_ENDPOINT_URL_SFN = savedEndpoint;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
});

function loadStarter(env: Record<string, string>): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const { module } = isolatedRequire<typeof import('../../lambda/saga/start')>(
    'lambda/saga/start', { TABLE_NAME: db.tableName, STATE_MACHINE_ARN, ...env }, ['WORKFLOW_TYPE', 'START_MODE', 'SYNC_START_TIMEOUT_MS']);
  return (event) => module.handler(event, lambdaContext({ getRemainingTimeInMillis: () => 60_000 }));
}

describe('EXPRESS async StartExecution', () => {
  test.each<Behaviour>(['reset', 'hang'])('the answer is lost (%s): one request, 503, and the retry sends none', async (fault) => {
    behaviour = fault;
    const invoke = loadStarter({ WORKFLOW_TYPE: 'EXPRESS' });
    const event = startEvent(order(`one-${fault}`), `one-attempt-${fault}`);
    const first = await invoke(event);
    expect(first.statusCode).toBe(503);
    expect(jsonBody(first)).toEqual(expect.objectContaining({ error: 'OutcomeUnknown' }));
    expect(received).toEqual(['AWSStepFunctions.StartExecution']);
    const retry = await invoke(event);
    expect(retry.statusCode).toBe(409);
    expect(received).toHaveLength(1);
  });
});

describe('STANDARD StartExecution', () => {
  test('a reset every time: the handler\'s 3 attempts, each a single request, then 503', async () => {
    behaviour = 'reset';
    const invoke = loadStarter({});
    const response = await invoke(startEvent(order('std-reset'), 'std-reset'));
    expect(response.statusCode).toBe(503);
    expect(received).toEqual(Array(3).fill('AWSStepFunctions.StartExecution'));
  });
});
