/**
 * The Express claim's own lost answer (DESIGN.md section 4): the claim's conditional put is applied
 * but its answer is lost, the SDK sends it again and the condition fails. The request must
 * recognise its own claim (its token) and start the saga, not answer "in progress" to itself.
 */
import { jsonBody } from '../helpers/api-gateway-events';
import { useDynamoBehindFaultProxy } from '../helpers/dynamo-fault-proxy';
import { callsNamed, starter, startEvent } from '../helpers/saga';

const local = useDynamoBehindFaultProxy();
let tableName = '';
beforeAll(async () => {
  tableName = await local.dynamo.createTable();
});
afterEach(() => local.proxy.loseResponses('PutItem', 0));

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Saga';
const order = { orderId: 'o-claim', customerId: 'c-1', sku: 'claim', quantity: 1, amount: 900 };

test('the claim\'s answer is lost: the SDK\'s retry finds its own claim, and the saga starts once', async () => {
  const { invoke, sfn, sdk } = starter({ TABLE_NAME: tableName, STATE_MACHINE_ARN, WORKFLOW_TYPE: 'EXPRESS' });
  sfn.on(sdk.StartExecutionCommand as never).callsFake((i: { name: string }) => ({ executionArn: `arn:aws:states:us-east-1:123456789012:express:Saga:${i.name}:r1` }));
  const before = local.proxy.forwarded('PutItem');
  local.proxy.loseResponses('PutItem', 1);
  const first = await invoke(startEvent(order, 'claim-lost'));
  expect(first.statusCode).toBe(202);
  expect(local.proxy.forwarded('PutItem') - before).toBe(2);
  const again = await invoke(startEvent(order, 'claim-lost'));
  expect(jsonBody(again)).toEqual(jsonBody(first));
  expect(callsNamed(sfn, 'StartExecutionCommand')).toBe(1);
});
