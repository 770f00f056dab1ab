/**
 * The local bus's event-pattern matcher (local/engines/event-pattern.ts) against the examples of
 * the Amazon EventBridge user guide: "Content filtering in event patterns" (prefix, anything-but,
 * numeric, IP address, exists, the complex example), "Comparison operators for use in event
 * patterns" (suffix, equals-ignore-case, wildcard, anything-but variants, empty, $or), "Arrays in
 * event patterns" and "Matching null values and empty strings". Each example is checked both ways:
 * an event it must match and one it must not.
 */
import { InvalidEventPatternError, compileEventPattern, matchesEventPattern } from '../../local/engines/event-pattern';

/** The sample EC2 state-change event of the user guide ("Amazon EventBridge events"). */
const EC2_EVENT = {
  'version': '0',
  'id': '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  'source': 'aws.ec2',
  'account': '111122223333',
  'time': '2017-12-22T18:43:48Z',
  'region': 'us-west-1',
  'resources': ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  'detail': { 'instance-id': 'i-1234567890abcdef0', 'state': 'terminated' },
};

const withDetail = (detail: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ ...EC2_EVENT, ...rest, detail });

describe('event patterns (user guide: "Amazon EventBridge event patterns")', () => {
  test('source, detail-type and a detail field must all match', () => {
    const pattern = { 'source': ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], 'detail': { state: ['terminated', 'stopped'] } };
    expect(matchesEventPattern(pattern, EC2_EVENT)).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ state: 'running' }))).toBe(false);
    expect(matchesEventPattern({ ...pattern, source: ['aws.s3'] }, EC2_EVENT)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, EC2_EVENT)).toBe(false);
  });

  test('arrays: the pattern matches when the pattern array and the event array intersect', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const matching = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(matchesEventPattern(pattern, matching)).toBe(true);
    expect(matchesEventPattern(pattern, { resources: [matching.resources[0]] })).toBe(false);
    expect(matchesEventPattern(pattern, { resources: [] })).toBe(false);
  });

  test('null values and empty strings are matched, and are not interchangeable', () => {
    const event = withDetail({ eventVersion: '', responseElements: null });
    expect(matchesEventPattern({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { responseElements: [''] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { absent: [null] } }, event)).toBe(false);
  });
});

describe('content filtering (user guide: "Content filtering in Amazon EventBridge event patterns")', () => {
  test('prefix: time starting with 2017-10-02', () => {
    const pattern = { time: [{ prefix: '2017-10-02' }] };
    expect(matchesEventPattern(pattern, { ...EC2_EVENT, time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(matchesEventPattern(pattern, { ...EC2_EVENT, time: '2017-10-03T18:43:48Z' })).toBe(false);
  });

  test('anything-but a string, a number, a list of strings, a list of numbers, a prefix', () => {
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'running' }))).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'initializing' }))).toBe(false);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 124 }))).toBe(true);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 123 }))).toBe(false);
    const list = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matchesEventPattern(list, withDetail({ state: 'running' }))).toBe(true);
    expect(matchesEventPattern(list, withDetail({ state: 'overloaded' }))).toBe(false);
    const numbers = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matchesEventPattern(numbers, withDetail({ 'x-limit': 150 }))).toBe(true);
    expect(matchesEventPattern(numbers, withDetail({ 'x-limit': 200 }))).toBe(false);
    const prefix = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matchesEventPattern(prefix, withDetail({ state: 'running' }))).toBe(true);
    expect(matchesEventPattern(prefix, withDetail({ state: 'initializing' }))).toBe(false);
    // A field that is not there is not "anything but".
    expect(matchesEventPattern(prefix, withDetail({}))).toBe(false);
  });

  test('numeric: every field must be true (c-count in (0, 5], d-count < 10, x-limit = 3.018e2)', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 5, 'd-count': 9.5, 'x-limit': 301.8 }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 0, 'd-count': 9, 'x-limit': 301.8 }))).toBe(false);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 3, 'd-count': 10, 'x-limit': 301.8 }))).toBe(false);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 3, 'd-count': 1, 'x-limit': 302 }))).toBe(false);
    // Numeric matching works with JSON numbers only.
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': '3', 'd-count': 1, 'x-limit': 301.8 }))).toBe(false);
  });

  test('IP address: cidr 10.0.0.0/24', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matchesEventPattern(pattern, withDetail({ sourceIPAddress: '10.0.0.24' }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ sourceIPAddress: '10.0.0.255' }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ sourceIPAddress: '10.0.1.1' }))).toBe(false);
    expect(matchesEventPattern(pattern, withDetail({ sourceIPAddress: 'not an ip' }))).toBe(false);
  });

  test('exists false: matches an event without detail.c-count, and one where c-count is not a leaf', () => {
    const pattern = { detail: { 'c-count': [{ exists: false }] } };
    expect(matchesEventPattern(pattern, withDetail({ state: ['initializing', 'running'] }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'state': ['initializing', 'running'], 'c-count': { c1: 100 } }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 3 }))).toBe(false);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, withDetail({ 'c-count': 3 }))).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, withDetail({ 'c-count': { c1: 100 } }))).toBe(false);
  });

  test('the complex example: prefix, anything-but and numeric together', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        'state': [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    };
    const detail = { 'state': 'running', 'c-count': 1, 'd-count': 2, 'x-limit': 150 };
    expect(matchesEventPattern(pattern, withDetail(detail, { time: '2017-10-02T00:00:00Z' }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ ...detail, 'x-limit': 300 }, { time: '2017-10-02T00:00:00Z' }))).toBe(false);
    expect(matchesEventPattern(pattern, withDetail(detail, { time: '2017-10-03T00:00:00Z' }))).toBe(false);
  });
});

describe('comparison operators (user guide: "Comparison operators for use in event patterns")', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
    ['and', { Location: ['New York'], Day: ['Monday'] }, { Location: 'New York', Day: 'Monday' }, { Location: 'New York', Day: 'Tuesday' }],
    ['anything-but suffix', { FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.jpg' }, { FileName: 'a.png' }],
    ['anything-but ignore case', { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, { state: 'running' }, { state: 'INITIALIZING' }],
    ['anything-but wildcard', { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: '/usr/bin/x' }, { FilePath: '/usr/lib/x' }],
    ['anything-but prefix (begins with)', { Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' }, { Region: 'us-east-1' }],
    ['begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-east-1' }, { Region: 'eu-west-1' }],
    ['begins with (ignore case)', { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }, { service: 'EventBridge' }, { service: 'Lambda' }],
    ['empty', { LastName: [''] }, { LastName: '' }, { LastName: 'Doe' }],
    ['equals', { Name: ['Alice'] }, { Name: 'Alice' }, { Name: 'alice' }],
    ['equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' }, { Name: 'Bob' }],
    ['ends with', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' }, { FileName: 'image.PNG' }],
    ['ends with (ignore case)', { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] }, { service: 'EVENTBRIDGE' }, { service: 'Lambda' }],
    ['exists', { ProductName: [{ exists: true }] }, { ProductName: 'x' }, { Other: 'x' }],
    ['does not exist', { ProductName: [{ exists: false }] }, { Other: 'x' }, { ProductName: 'x' }],
    ['not (anything-but)', { Weather: [{ 'anything-but': ['Raining'] }] }, { Weather: 'Sunny' }, { Weather: 'Raining' }],
    ['null', { UserID: [null] }, { UserID: null }, { UserID: 'u1' }],
    ['or (values)', { PaymentType: ['Credit', 'Debit'] }, { PaymentType: 'Debit' }, { PaymentType: 'Cash' }],
    ['or (fields)', { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }, { Location: 'Boston', Day: 'Monday' }, { Location: 'Boston', Day: 'Friday' }],
    ['wildcard', { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
      { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' }, { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/orders' }],
  ];

  test.each(cases)('%s', (_name, pattern, matching, notMatching) => {
    const matcher = compileEventPattern(pattern);
    expect(matcher(matching)).toBe(true);
    expect(matcher(notMatching)).toBe(false);
  });

  test('$or inside detail: any of c-count, d-count, x-limit', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matchesEventPattern(pattern, withDetail({ 'x-limit': 301.8 }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'd-count': 3 }))).toBe(true);
    expect(matchesEventPattern(pattern, withDetail({ 'c-count': 7, 'd-count': 20 }))).toBe(false);
  });

  test('escaped wildcard characters match literally', () => {
    expect(matchesEventPattern({ k: [{ wildcard: 'a\\*b*' }] }, { k: 'a*bc' })).toBe(true);
    expect(matchesEventPattern({ k: [{ wildcard: 'a\\*b*' }] }, { k: 'axbc' })).toBe(false);
  });
});

describe('the change events of this pattern', () => {
  const event = {
    'detail-type': 'order.updated.v1',
    'source': 'com.example.orders',
    'detail': { keys: { pk: 'ORDER#1' }, item: { amount: 750, status: 'paid', tags: { $ss: ['a', 'vip'] } }, changedFields: ['amount', 'status'] },
  };

  test('filters on item values, changed fields and set members', () => {
    expect(matchesEventPattern({ detail: { item: { amount: [{ numeric: ['>=', 500] }] }, changedFields: ['amount'] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { item: { tags: { $ss: ['vip'] } } } }, event)).toBe(true);
    expect(matchesEventPattern({ 'detail-type': [{ suffix: '.deleted.v1' }] }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { changedFields: [{ 'anything-but': ['amount', 'status'] }] } }, event)).toBe(false);
  });
});

describe('invalid patterns are refused, as PutRule refuses them', () => {
  test.each([
    ['a leaf that is not an array', { source: 'aws.ec2' }],
    ['an unknown operator', { source: [{ contains: 'x' }] }],
    ['numeric with two lower bounds', { n: [{ numeric: ['>', 1, '>', 2] }] }],
    ['numeric with a string bound', { n: [{ numeric: ['>', '1'] }] }],
    ['anything-but mixing strings and numbers', { n: [{ 'anything-but': ['a', 1] }] }],
    ['an empty matcher list', { n: [] }],
    ['$or with one alternative', { $or: [{ a: ['x'] }] }],
    ['a bad cidr', { ip: [{ cidr: '10.0.0.0/33' }] }],
    ['an empty pattern', {}],
    ['not JSON', '{source:'],
  ])('%s', (_name, pattern) => {
    expect(() => compileEventPattern(pattern)).toThrow(InvalidEventPatternError);
  });
});
