/**
 * What an EventBridge target receives (local/triggers/target-input.ts), against the EventBridge
 * user guide's "Amazon EventBridge input transformation" page: its example EC2 event, input path
 * and every input template of its examples table, the predefined `aws.events.event` and
 * `aws.events.event.json` variables and its "common issues" (a path the event does not have
 * creates no value); plus `Input` and `InputPath`.
 */
import { targetInput, valueAtPath } from '../../local/triggers/target-input';

/** The user guide's example Amazon EC2 event. */
const EC2_EVENT = {
  'version': '0',
  'id': '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  'source': 'aws.ec2',
  'account': '123456789012',
  'time': '2015-11-11T21:29:54Z',
  'region': 'us-east-1',
  'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  'detail': { 'instance-id': 'i-0123456789', 'state': 'RUNNING' },
};

/** The user guide's input path. */
const INPUT_PATHS_MAP = {
  timestamp: '$.time',
  instance: '$.detail.instance-id',
  state: '$.detail.state',
  resource: '$.resources[0]',
};

const transform = (InputTemplate: string, InputPathsMap: Record<string, string> = INPUT_PATHS_MAP): string =>
  targetInput(EC2_EVENT, { InputTransformer: { InputPathsMap, InputTemplate } });

describe('input templates of the user guide\'s examples table', () => {
  test('simple string', () => {
    expect(transform('"instance <instance> is in <state>"')).toBe('"instance i-0123456789 is in RUNNING"');
  });

  test('string with escaped quotes', () => {
    expect(transform('"instance \\"<instance>\\" is in <state>"')).toBe('"instance \\"i-0123456789\\" is in RUNNING"');
  });

  test('simple JSON: a placeholder outside quotes is the value\'s JSON', () => {
    const output = transform('{\n  "instance" : <instance>,\n  "state": <state>\n}');
    expect(JSON.parse(output)).toEqual({ instance: 'i-0123456789', state: 'RUNNING' });
  });

  test('JSON with strings and variables', () => {
    const output = transform('{\n "instance" : <instance>,\n "state": "<state>",\n "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}');
    expect(JSON.parse(output)).toEqual({ instance: 'i-0123456789', state: 'RUNNING', instanceStatus: 'instance "i-0123456789" is in RUNNING' });
  });

  test('JSON with a mix of variables and static information', () => {
    const output = transform('{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}');
    expect(JSON.parse(output)).toEqual({ instance: 'i-0123456789', state: [9, 'RUNNING', true], Transformed: 'Yes' });
  });

  test('the resource and timestamp variables (array index and top-level field)', () => {
    expect(JSON.parse(transform('{"resource": <resource>, "at": "<timestamp>"}'))).toEqual({
      resource: 'arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111',
      at: '2015-11-11T21:29:54Z',
    });
  });

  test('including the original event: <aws.events.event.json> is all of it', () => {
    const output = transform('{\n  "instance" : <instance>,\n  "state": <state>,\n  "originalEvent" : <aws.events.event.json>\n}');
    expect(JSON.parse(output)).toEqual({ instance: 'i-0123456789', state: 'RUNNING', originalEvent: EC2_EVENT });
  });

  test('<aws.events.event> is the original event without its detail field', () => {
    const { detail: _detail, ...withoutDetail } = EC2_EVENT;
    expect(JSON.parse(transform('{"original": <aws.events.event>}'))).toEqual({ original: withoutDetail });
  });

  test('values that are objects, numbers and booleans keep their JSON type outside quotes', () => {
    const event = { detail: { order: { id: 'o-1', lines: 2 }, total: 12.5, paid: true, note: null } };
    const output = targetInput(event, {
      InputTransformer: {
        InputPathsMap: { order: '$.detail.order', total: '$.detail.total', paid: '$.detail.paid', note: '$.detail.note' },
        InputTemplate: '{"order": <order>, "total": <total>, "paid": <paid>, "note": <note>, "text": "<total> paid=<paid>"}',
      },
    });
    expect(JSON.parse(output)).toEqual({ order: { id: 'o-1', lines: 2 }, total: 12.5, paid: true, note: null, text: '12.5 paid=true' });
  });
});

describe('common issues: a path the event does not have', () => {
  test('creates no value: nothing appears inside quotes', () => {
    expect(transform('"instance <instance> has <missing> tags"', { ...INPUT_PATHS_MAP, missing: '$.detail.tags' }))
      .toBe('"instance i-0123456789 has  tags"');
  });

  test('outside quotes the local runner writes null, keeping the JSON valid', () => {
    const output = transform('{"instance": <instance>, "tags": <missing>}', { ...INPUT_PATHS_MAP, missing: '$.detail.tags.first' });
    expect(JSON.parse(output)).toEqual({ instance: 'i-0123456789', tags: null });
  });
});

describe('Input and InputPath', () => {
  test('no input setting: the whole event, as JSON', () => {
    expect(JSON.parse(targetInput(EC2_EVENT, {}))).toEqual(EC2_EVENT);
  });

  test('Input: the constant JSON text, whatever the event', () => {
    expect(targetInput(EC2_EVENT, { Input: '{"action":"refresh"}' })).toBe('{"action":"refresh"}');
  });

  test('InputPath: the part of the event it selects', () => {
    expect(JSON.parse(targetInput(EC2_EVENT, { InputPath: '$.detail' }))).toEqual(EC2_EVENT.detail);
    expect(JSON.parse(targetInput(EC2_EVENT, { InputPath: '$.resources[0]' }))).toBe('arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111');
    expect(JSON.parse(targetInput(EC2_EVENT, { InputPath: '$' }))).toEqual(EC2_EVENT);
  });

  test('valueAtPath: dot notation, dashes, array indices; undefined when absent', () => {
    expect(valueAtPath(EC2_EVENT, '$.detail.instance-id')).toBe('i-0123456789');
    expect(valueAtPath(EC2_EVENT, '$.detail-type')).toBe('EC2 Instance State-change Notification');
    expect(valueAtPath({ a: [{ b: [1, 2] }] }, '$.a[0].b[1]')).toBe(2);
    expect(valueAtPath(EC2_EVENT, '$.detail.missing.deeper')).toBeUndefined();
    expect(valueAtPath(EC2_EVENT, '$.resources[5]')).toBeUndefined();
  });
});
