/**
 * The local SNS engine's filter-policy matcher (local/engines/sns-filter-policy.ts) against the
 * examples of the Amazon SNS developer guide: "Amazon SNS example filter policies"
 * (example-filter-policies.html), "String value matching" (string-value-matching.html), "Numeric
 * value matching" (numeric-value-matching.html), "Key matching" (attribute-key-matching.html),
 * "AND/OR logic" (and-or-logic.html) and "Filter policy constraints"
 * (subscription-filter-policy-constraints.html), with "Amazon SNS message attributes"
 * (sns-message-attributes.html) for the attribute types. The guide gives most examples in both
 * scopes: message attributes (`{"Type": "String", "Value": "rugby"}`) and message bodies
 * (`{"customer_interests": "rugby"}`); each is checked in the scope it is given for, both ways where
 * the guide says what must not match. Cases the guide does not give are marked "(ours)".
 */
import fc from 'fast-check';
import {
  FILTER_POLICY_LIMITS, InvalidFilterPolicyError, compileFilterPolicy, matchesFilterPolicy, measureFilterPolicy, type FilterMessageAttribute,
} from '../../local/engines/sns-filter-policy';

type Attributes = Record<string, FilterMessageAttribute>;
const S = (value: string): FilterMessageAttribute => ({ DataType: 'String', StringValue: value });
const N = (value: string | number): FilterMessageAttribute => ({ DataType: 'Number', StringValue: String(value) });
const SA = (value: string): FilterMessageAttribute => ({ DataType: 'String.Array', StringValue: value });
const B = (): FilterMessageAttribute => ({ DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) });

const attributes = (policy: unknown, messageAttributes: Attributes): boolean => matchesFilterPolicy(policy, { messageAttributes }, 'MessageAttributes');
/** A body given as an object is sent as its JSON; a string is sent as is (for number forms like 3.015e2). */
const body = (policy: unknown, message: unknown): boolean =>
  matchesFilterPolicy(policy, { body: typeof message === 'string' ? message : JSON.stringify(message) }, 'MessageBody');

describe('"Amazon SNS example filter policies" (example-filter-policies.html)', () => {
  const exampleAttributes: Attributes = {
    customer_interests: SA('["soccer", "rugby", "hockey"]'),
    store: S('example_corp'),
    event: S('order_placed'),
    price_usd: N('210.75'),
  };
  const exampleBody = '{ "customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp", "event":"order_placed", "price_usd":210.75 }';

  test('"A policy that accepts the example message": in both scopes', () => {
    const policy = {
      store: ['example_corp'],
      event: [{ 'anything-but': 'order_cancelled' }],
      customer_interests: ['rugby', 'football', 'baseball'],
      price_usd: [{ numeric: ['>=', 100] }],
    };
    expect(attributes(policy, exampleAttributes)).toBe(true);
    expect(body(policy, exampleBody)).toBe(true);
  });

  test('"A policy that rejects the example message": in both scopes (encrypted is not in the message, and more)', () => {
    const policy = { store: ['example_corp'], event: ['order_cancelled'], encrypted: [false], customer_interests: ['basketball', 'baseball'] };
    expect(attributes(policy, exampleAttributes)).toBe(false);
    expect(body(policy, exampleBody)).toBe(false);
    // One mismatch is enough (ours): only `encrypted` is missing.
    const onlyEncrypted = { store: ['example_corp'], encrypted: [false] };
    expect(attributes(onlyEncrypted, exampleAttributes)).toBe(false);
    expect(body(onlyEncrypted, exampleBody)).toBe(false);
  });

  test('properties the policy does not name are ignored ("Amazon SNS subscription filter policies")', () => {
    expect(attributes({ store: ['example_corp'] }, exampleAttributes)).toBe(true);
    expect(body({ store: ['example_corp'] }, exampleBody)).toBe(true);
  });
});

describe('"String value matching" (string-value-matching.html)', () => {
  test('exact matching: String, String.Array element by element, and bodies', () => {
    const policy = { customer_interests: ['rugby', 'tennis'] };
    expect(attributes(policy, { customer_interests: S('rugby') })).toBe(true);
    expect(attributes(policy, { customer_interests: S('tennis') })).toBe(true);
    expect(attributes(policy, { customer_interests: SA('["rugby", "tennis"]') })).toBe(true);
    expect(body(policy, { customer_interests: 'rugby' })).toBe(true);
    expect(body(policy, { customer_interests: 'tennis' })).toBe(true);

    expect(attributes(policy, { customer_interests: S('baseball') })).toBe(false);
    expect(attributes(policy, { customer_interests: SA('["baseball"]') })).toBe(false);
    expect(body(policy, { customer_interests: 'baseball' })).toBe(false);
  });

  test('anything-but matching: a message with one value not listed matches', () => {
    const policy = { customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }] };
    expect(attributes(policy, { customer_interests: S('baseball') })).toBe(true);
    expect(attributes(policy, { customer_interests: S('football') })).toBe(true);
    expect(attributes(policy, { customer_interests: SA('["rugby", "baseball"]') })).toBe(true);
    expect(body(policy, { customer_interests: 'baseball' })).toBe(true);
    expect(body(policy, { customer_interests: 'football' })).toBe(true);
    expect(body(policy, { customer_interests: ['rugby', 'baseball'] })).toBe(true);

    expect(attributes(policy, { customer_interests: S('rugby') })).toBe(false);
    expect(attributes(policy, { customer_interests: SA('["rugby"]') })).toBe(false);
    expect(body(policy, { customer_interests: ['rugby'] })).toBe(false);
    // A property that is not there is not "anything but" (ours) ...
    expect(body(policy, { other: 'x' })).toBe(false);
    // ... unless anything-but is combined with "exists": false, as the page allows.
    expect(body({ customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }, { exists: false }] }, { other: 'x' })).toBe(true);
  });

  test('using a prefix with anything-but: denies the order- prefix', () => {
    const policy = { event: [{ 'anything-but': { prefix: 'order-' } }] };
    expect(attributes(policy, { event: S('data-entry') })).toBe(true);
    expect(attributes(policy, { event: S('order_number') })).toBe(true);
    expect(body(policy, { event: 'data-entry' })).toBe(true);
    expect(body(policy, { event: 'order_number' })).toBe(true);
    expect(attributes(policy, { event: S('order-cancelled') })).toBe(false);
    expect(body(policy, { event: 'order-cancelled' })).toBe(false);
  });

  test('anything-but wildcard and anything-but suffix: deny *ball and the ball suffix', () => {
    for (const policy of [{ customer_interests: [{ 'anything-but': { wildcard: '*ball' } }] }, { customer_interests: [{ 'anything-but': { suffix: 'ball' } }] }]) {
      expect(body(policy, { customer_interests: ['hockey', 'rugby', 'soccer'] })).toBe(true);
      expect(body(policy, { customer_interests: ['baseball', 'basketball'] })).toBe(false);
      expect(attributes(policy, { customer_interests: SA('["hockey", "rugby", "soccer"]') })).toBe(true);
      expect(attributes(policy, { customer_interests: SA('["baseball", "basketball"]') })).toBe(false);
    }
  });

  test('equals-ignore-case matching', () => {
    const policy = { customer_interests: [{ 'equals-ignore-case': 'tennis' }] };
    expect(attributes(policy, { customer_interests: S('TENNIS') })).toBe(true);
    expect(attributes(policy, { customer_interests: S('Tennis') })).toBe(true);
    expect(body(policy, { customer_interests: 'TENNIS' })).toBe(true);
    expect(body(policy, { customer_interests: 'teNnis' })).toBe(true);
    expect(attributes(policy, { customer_interests: S('tennis ball') })).toBe(false); // (ours)
  });

  test('IP address matching: cidr 10.0.0.0/24', () => {
    const policy = { source_ip: [{ cidr: '10.0.0.0/24' }] };
    expect(attributes(policy, { source_ip: S('10.0.0.0') })).toBe(true);
    expect(attributes(policy, { source_ip: S('10.0.0.255') })).toBe(true);
    expect(body(policy, { source_ip: '10.0.0.0' })).toBe(true);
    expect(body(policy, { source_ip: '10.0.0.255' })).toBe(true);
    expect(attributes(policy, { source_ip: S('10.1.1.0') })).toBe(false);
    expect(body(policy, { source_ip: '10.1.1.0' })).toBe(false);
  });

  test('prefix matching: bas', () => {
    const policy = { customer_interests: [{ prefix: 'bas' }] };
    expect(attributes(policy, { customer_interests: S('baseball') })).toBe(true);
    expect(attributes(policy, { customer_interests: S('basketball') })).toBe(true);
    expect(body(policy, { customer_interests: 'baseball' })).toBe(true);
    expect(body(policy, { customer_interests: 'basketball' })).toBe(true);
    expect(attributes(policy, { customer_interests: S('rugby') })).toBe(false);
    expect(body(policy, { customer_interests: 'rugby' })).toBe(false);
  });

  test('suffix matching: ball', () => {
    const policy = { customer_interests: [{ suffix: 'ball' }] };
    expect(attributes(policy, { customer_interests: S('baseball') })).toBe(true);
    expect(attributes(policy, { customer_interests: S('basketball') })).toBe(true);
    expect(body(policy, { customer_interests: 'baseball' })).toBe(true);
    expect(body(policy, { customer_interests: 'basketball' })).toBe(true);
    expect(attributes(policy, { customer_interests: S('rugby') })).toBe(false);
    expect(body(policy, { customer_interests: 'rugby' })).toBe(false);
  });

  test('wildcard: *ball', () => {
    const policy = { customer_interests: [{ wildcard: '*ball' }] };
    expect(body(policy, { customer_interests: ['baseball', 'basketball'] })).toBe(true);
    expect(body(policy, { customer_interests: ['rugby'] })).toBe(false); // (ours)
    expect(body({ k: [{ wildcard: 'a*c*e' }] }, { k: 'abcde' })).toBe(true); // (ours)
  });
});

describe('"Numeric value matching" (numeric-value-matching.html)', () => {
  test('exact matching: = 301.5 matches 301.5 and 3.015e2', () => {
    const policy = { price_usd: [{ numeric: ['=', 301.5] }] };
    expect(attributes(policy, { price_usd: N('301.5') })).toBe(true);
    expect(attributes(policy, { price_usd: N('3.015e2') })).toBe(true);
    expect(body(policy, '{ "price_usd": 301.5 }')).toBe(true);
    expect(body(policy, '{ "price_usd": 3.015e2 }')).toBe(true);
    expect(attributes(policy, { price_usd: N('301.4') })).toBe(false); // (ours)
    // Numeric operators see numbers only: a String attribute or a JSON string is not a number (ours).
    expect(attributes(policy, { price_usd: S('301.5') })).toBe(false);
    expect(body(policy, { price_usd: '301.5' })).toBe(false);
  });

  test('anything-but matching: [100, 500]', () => {
    const policy = { price: [{ 'anything-but': [100, 500] }] };
    expect(attributes(policy, { price: N(101) })).toBe(true);
    expect(attributes(policy, { price: N(100.1) })).toBe(true);
    expect(body(policy, { price: 101 })).toBe(true);
    expect(body(policy, { price: 100.1 })).toBe(true);
    expect(body(policy, { price: [100, 50] })).toBe(true);
    // The guide writes this one as `"Type": "Number.Array"`, which is not one of the data types of
    // "Amazon SNS message attributes" (a Number attribute holds one number): the String.Array form.
    expect(attributes(policy, { price: SA('[100, 50]') })).toBe(true);
    expect(attributes(policy, { price: N(100) })).toBe(false);
    expect(body(policy, { price: 100 })).toBe(false);
  });

  test('value range matching: < 0, and > 0 <= 150', () => {
    const negative = { price_usd: [{ numeric: ['<', 0] }] };
    expect(attributes(negative, { price_usd: N(-0.5) })).toBe(true);
    expect(attributes(negative, { price_usd: N(0) })).toBe(false);
    const range = { price_usd: [{ numeric: ['>', 0, '<=', 150] }] };
    expect(attributes(range, { price_usd: N(150) })).toBe(true);
    expect(body(range, { price_usd: 0.01 })).toBe(true);
    expect(attributes(range, { price_usd: N(0) })).toBe(false);
    expect(body(range, { price_usd: 150.01 })).toBe(false);
  });

  test('"Prefixes are supported for string matching only": prefix does not match a number (ours)', () => {
    expect(body({ price_usd: [{ prefix: '21' }] }, { price_usd: 210.75 })).toBe(false);
    expect(attributes({ price_usd: [{ prefix: '21' }] }, { price_usd: N('210.75') })).toBe(false);
  });
});

describe('"Key matching" (attribute-key-matching.html)', () => {
  const withStore: Attributes = { store: S('fans'), customer_interests: SA('["baseball", "basketball"]') };
  const withoutStore: Attributes = { customer_interests: SA('["baseball", "basketball"]') };

  test('"exists": true matches messages with the property', () => {
    const policy = { store: [{ exists: true }] };
    expect(attributes(policy, withStore)).toBe(true);
    expect(body(policy, { store: 'fans', customer_interests: ['baseball', 'basketball'] })).toBe(true);
    expect(attributes(policy, withoutStore)).toBe(false);
    expect(body(policy, { customer_interests: ['baseball', 'basketball'] })).toBe(false);
  });

  test('"exists": true needs a non-null and non-empty value, on a leaf node', () => {
    const policy = { store: [{ exists: true }] };
    expect(body(policy, { store: null })).toBe(false);
    expect(body(policy, { store: '' })).toBe(false);
    expect(body(policy, { store: { name: 'fans' } })).toBe(false);
  });

  test('"exists": false matches messages without the property', () => {
    const policy = { store: [{ exists: false }] };
    expect(attributes(policy, withStore)).toBe(false);
    expect(body(policy, { store: 'fans', customer_interests: ['baseball', 'basketball'] })).toBe(false);
    expect(attributes(policy, withoutStore)).toBe(true);
    expect(body(policy, { customer_interests: ['baseball', 'basketball'] })).toBe(true);
  });

  test('"exists": false only matches if at least one attribute is present: an empty set of attributes does not match', () => {
    expect(attributes({ store: [{ exists: false }] }, {})).toBe(false);
    // "Amazon SNS ignores message attributes with the Binary data type" ("Filter policy constraints"): so does this rule (ours).
    expect(attributes({ store: [{ exists: false }] }, { blob: B() })).toBe(false);
  });
});

describe('"AND/OR logic" (and-or-logic.html)', () => {
  test('AND logic: customer_interests rugby and price_usd > 100', () => {
    const policy = { customer_interests: ['rugby'], price_usd: [{ numeric: ['>', 100] }] };
    expect(attributes(policy, { customer_interests: S('rugby'), price_usd: N(101) })).toBe(true);
    expect(body(policy, { customer_interests: 'rugby', price_usd: 101 })).toBe(true);
    expect(attributes(policy, { customer_interests: S('rugby'), price_usd: N(100) })).toBe(false);
    expect(body(policy, { customer_interests: 'tennis', price_usd: 101 })).toBe(false);
  });

  test('OR logic: rugby, football or baseball', () => {
    const policy = { customer_interests: ['rugby', 'football', 'baseball'] };
    for (const value of ['rugby', 'football', 'baseball']) {
      expect(attributes(policy, { customer_interests: S(value) })).toBe(true);
      expect(body(policy, { customer_interests: value })).toBe(true);
    }
    expect(attributes(policy, { customer_interests: S('hockey') })).toBe(false);
  });

  test('OR operator: "source" && ("metricName" || "namespace")', () => {
    const policy = { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] };
    expect(attributes(policy, { source: S('aws.cloudwatch'), metricName: S('CPUUtilization') })).toBe(true);
    expect(attributes(policy, { source: S('aws.cloudwatch'), namespace: S('AWS/EC2') })).toBe(true);
    expect(body(policy, { source: 'aws.cloudwatch', metricName: 'CPUUtilization' })).toBe(true);
    expect(body(policy, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' })).toBe(true);
    // (ours) neither alternative, or no source.
    expect(attributes(policy, { source: S('aws.cloudwatch'), namespace: S('AWS/ES') })).toBe(false);
    expect(body(policy, { metricName: 'CPUUtilization' })).toBe(false);
  });

  test('OR operator nested in a body policy: ("metricName" || "namespace") && detail.scope && (detail.source || detail.type)', () => {
    const policy = {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { scope: ['Service'], $or: [{ source: ['aws.cloudwatch'] }, { type: ['CloudWatch Alarm State Change'] }] },
    };
    expect(body(policy, { namespace: 'AWS/ES', detail: { scope: 'Service', type: 'CloudWatch Alarm State Change' } })).toBe(true);
    expect(body(policy, { metricName: 'ReadLatency', detail: { scope: 'Service', source: 'aws.cloudwatch' } })).toBe(true);
    expect(body(policy, { metricName: 'ReadLatency', detail: { scope: 'Other', source: 'aws.cloudwatch' } })).toBe(false);
    expect(body(policy, { metricName: 'ReadLatency', detail: { scope: 'Service' } })).toBe(false);
  });

  test('"$or" with reserved keywords as field names is not an OR: it is a property named $or', () => {
    // The page's example: a property "$or" whose matchers are {"numeric": 123} and {"prefix": "abc"};
    // `numeric` takes a range, not a number, so Subscribe refuses it.
    expect(() => compileFilterPolicy({ $or: [{ numeric: 123 }, { prefix: 'abc' }] }, 'MessageBody')).toThrow(InvalidFilterPolicyError);
    // With valid matchers the "$or" property is matched like any other (ours).
    const policy = { $or: [{ prefix: 'abc' }, { suffix: 'xyz' }] };
    expect(body(policy, { $or: 'abc-1' })).toBe(true);
    expect(body(policy, { $or: '1-xyz' })).toBe(true);
    expect(body(policy, { $or: '1-2' })).toBe(false);
    expect(body(policy, { prefix: 'abc' })).toBe(false);
    // A one-element "$or" is no OR either: a property named $or (ours).
    expect(body({ $or: ['x'] }, { $or: 'x' })).toBe(true);
  });

  test('policy constraints that include OR relationships: the total combinations are 7 and 32', () => {
    const flat = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { metricType: ['MetricType'], $or: [{ metricId: [1234, 4321] }, { spaceId: [1000, 2000, 3000] }] }],
    };
    expect(measureFilterPolicy(flat, 'MessageAttributes').combinations).toBe(7);
    const nested = {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { scope: ['Service'], $or: [{ source: ['aws.cloudwatch'] }, { type: ['CloudWatch Alarm State Change'] }] },
    };
    expect(measureFilterPolicy(nested, 'MessageBody').combinations).toBe(32);
    // (source AND metricName) OR (source AND metricType AND metricId) OR (source AND metricType AND spaceId)
    expect(attributes(flat, { source: S('aws.cloudwatch'), metricType: S('MetricType'), spaceId: N(2000) })).toBe(true);
    expect(attributes(flat, { source: S('aws.cloudwatch'), metricType: S('MetricType') })).toBe(false);
  });
});

describe('"Filter policy constraints" (subscription-filter-policy-constraints.html)', () => {
  test('string matching is case-sensitive', () => {
    expect(attributes({ customer_interests: ['Rugby'] }, { customer_interests: S('rugby') })).toBe(false);
    expect(body({ customer_interests: ['Rugby'] }, { customer_interests: 'Rugby' })).toBe(true);
  });

  test('numeric matching has five digits of accuracy after the decimal point', () => {
    const policy = { n: [{ numeric: ['=', 1] }] };
    expect(attributes(policy, { n: N('1.000001') })).toBe(true);
    expect(attributes(policy, { n: N('1.00001') })).toBe(false);
    expect(body({ n: [1] }, { n: 1.000001 })).toBe(true);
  });

  test('the total combination of values: 3 x 1 x 2 = 6, and 3 x 4 x 2 x 3 = 72 for the nested example', () => {
    expect(measureFilterPolicy({ key_a: ['value_one', 'value_two', 'value_three'], key_b: ['value_one'], key_c: ['value_one', 'value_two'] }).combinations).toBe(6);
    const nested = {
      key_a: { key_b: { key_c: ['value_one', 'value_two', 'value_three', 'value_four'] } },
      key_d: { key_e: ['value_one', 'value_two', 'value_three'] },
    };
    expect(measureFilterPolicy(nested, 'MessageBody').combinations).toBe(72);
  });

  test('the total combination of values must not exceed 150', () => {
    const values = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`);
    expect(() => compileFilterPolicy({ k: values(FILTER_POLICY_LIMITS.maxCombinations) })).not.toThrow();
    expect(() => compileFilterPolicy({ k: values(151) })).toThrow(/too complex/);
    expect(() => compileFilterPolicy({ a: values(13), b: values(12) })).toThrow(/too complex/);
    // Nesting multiplies by the depth: 3 x (25 x 2) = 150 passes, 3 x (26 x 2) = 156 does not (ours).
    expect(() => compileFilterPolicy({ a: values(3), b: { c: values(25) } }, 'MessageBody')).not.toThrow();
    expect(() => compileFilterPolicy({ a: values(3), b: { c: values(26) } }, 'MessageBody')).toThrow(/too complex/);
  });

  test('a filter policy can have a maximum of five keys', () => {
    const keys = (n: number): Record<string, string[]> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, ['x']]));
    expect(() => compileFilterPolicy(keys(5))).not.toThrow();
    expect(() => compileFilterPolicy(keys(6))).toThrow(/more than 5 keys/);
    expect(() => compileFilterPolicy(keys(6), 'MessageBody')).toThrow(/more than 5 keys/);
    // Keys inside "$or" alternatives count too (ours).
    expect(() => compileFilterPolicy({ ...keys(4), $or: [{ a: ['x'] }, { b: ['y'] }] })).toThrow(/more than 5 keys/);
  });

  test('key counting: payload-based filtering counts only top-level keys', () => {
    const policy = {
      state: ['SUCCESS'],
      severity: [{ exists: true }],
      message: [{ exists: true }],
      finding: { standard_control: [{ exists: true }], region: [{ exists: true }], account: [{ exists: true }] },
    };
    expect(measureFilterPolicy(policy, 'MessageBody').keys).toBe(4);
    expect(body(policy, { state: 'SUCCESS', severity: 'HIGH', message: 'm', finding: { standard_control: 'S3.9', region: 'us-east-1', account: '1' } })).toBe(true);
    const manyNested = { finding: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, ['x']])) };
    expect(() => compileFilterPolicy(manyNested, 'MessageBody')).not.toThrow();
  });

  test('attribute-based filtering does not accept a nested policy', () => {
    expect(() => compileFilterPolicy({ finding: { region: ['us-east-1'] } }, 'MessageAttributes')).toThrow(/does not support nested/);
    expect(body({ finding: { region: ['us-east-1'] } }, { finding: { region: 'us-east-1' } })).toBe(true);
  });

  test('the JSON may hold strings, numbers and the keywords true, false and null', () => {
    expect(body({ encrypted: [false] }, { encrypted: false })).toBe(true);
    expect(body({ encrypted: [false] }, { encrypted: 'false' })).toBe(false);
    expect(body({ owner: [null] }, { owner: null })).toBe(true);
    expect(attributes({ flags: [true, 7] }, { flags: SA('[true, 7]') })).toBe(true);
    expect(attributes({ flags: [7] }, { flags: SA('["7"]') })).toBe(false);
  });

  test('the maximum size of a filter policy is 256 KB', () => {
    expect(() => compileFilterPolicy({ k: ['x'.repeat(FILTER_POLICY_LIMITS.maxBytes)] })).toThrow(/256 KB/);
    expect(() => compileFilterPolicy(JSON.stringify({ k: ['x'.repeat(FILTER_POLICY_LIMITS.maxBytes)] }))).toThrow(/256 KB/);
  });

  test('attribute-based filtering compares String, String.Array and Number attributes and ignores Binary ones', () => {
    expect(attributes({ blob: [{ exists: true }] }, { blob: B(), other: S('x') })).toBe(false);
    expect(attributes({ blob: [{ exists: false }] }, { blob: B(), other: S('x') })).toBe(true);
    // Custom type labels ("String.<label>", "Number.<label>") keep their base type (ours).
    expect(attributes({ id: [{ prefix: 'ord' }] }, { id: { DataType: 'String.OrderId', StringValue: 'ord-1' } })).toBe(true);
    expect(attributes({ n: [{ numeric: ['>', 1] }] }, { n: { DataType: 'Number.float', StringValue: '1.5' } })).toBe(true);
  });

  test('a String.Array used for filtering must be valid JSON ("Amazon SNS message attributes"): otherwise no attribute policy matches', () => {
    expect(attributes({ other: ['x'] }, { other: S('x'), list: SA('[not json') })).toBe(false);
    expect(attributes({ other: ['x'] }, { other: S('x'), list: SA('["ok"]') })).toBe(true);
  });

  test('a body policy needs a message that is a JSON object', () => {
    expect(body({ k: ['x'] }, 'not json')).toBe(false);
    expect(body({ k: ['x'] }, '["x"]')).toBe(false);
    expect(compileFilterPolicy({ k: ['x'] }, 'MessageBody')({})).toBe(false);
  });
});

describe('body policies on nested and repeated properties (ours, after "Amazon SNS message filtering")', () => {
  test('an array of objects in the body is matched object by object (the S3 event example)', () => {
    const policy = { Records: { s3: { object: { key: [{ prefix: 'uploads/' }] } } } };
    expect(body(policy, { Records: [{ s3: { object: { key: 'tmp/a' } } }, { s3: { object: { key: 'uploads/b' } } }] })).toBe(true);
    expect(body(policy, { Records: [{ s3: { object: { key: 'tmp/a' } } }] })).toBe(false);
  });

  test('a nested policy of only exists: false matches a body without the parent', () => {
    expect(body({ detail: { error: [{ exists: false }] } }, { other: 1 })).toBe(true);
    expect(body({ detail: { error: [{ exists: false }] } }, { detail: { error: 'boom' } })).toBe(false);
  });

  test('an empty policy filters nothing, as no policy', () => {
    expect(attributes({}, {})).toBe(true);
    expect(body({}, 'not json')).toBe(true);
  });
});

describe('IPv6 blocks (ours: the guide gives IPv4 examples only)', () => {
  test.each([
    ['2001:db8::/32', '2001:db8:0:0:1::1', true],
    ['2001:db8::/32', '2001:DB8:ffff::', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['::1/128', '::1', true],
    ['::1/128', '::2', false],
    ['::/0', 'fe80::1', true],
    ['::ffff:10.0.0.0/120', '::ffff:10.0.0.7', true],
    ['::ffff:10.0.0.0/120', '10.0.0.7', false],
    ['10.0.0.0/8', '::ffff:10.0.0.7', false],
    ['2001:db8::/32', '2001:db8::1::1', false],
    ['2001:db8::/32', 'not-an-ip', false],
  ])('%s matches %s: %s', (cidr, ip, expected) => {
    expect(body({ ip: [{ cidr }] }, { ip })).toBe(expected);
  });
});

describe('invalid policies are refused, as Subscribe refuses them', () => {
  test.each([
    ['not JSON', '{"k": ['],
    ['a root that is not an object', ['x']],
    ['a leaf that is not an array', { store: 'example_corp' }],
    ['an empty array', { store: [] }],
    ['an unknown operator', { store: [{ contains: 'x' }] }],
    ['two operators in one matcher', { store: [{ prefix: 'a', suffix: 'b' }] }],
    ['an array as a matcher', { store: [['a']] }],
    ['prefix with a non-string', { store: [{ prefix: 1 }] }],
    ['equals-ignore-case inside prefix (EventBridge only)', { store: [{ prefix: { 'equals-ignore-case': 'a' } }] }],
    ['anything-but equals-ignore-case (EventBridge only)', { store: [{ 'anything-but': { 'equals-ignore-case': 'a' } }] }],
    ['anything-but with an empty list', { store: [{ 'anything-but': [] }] }],
    ['anything-but with an object in its list', { store: [{ 'anything-but': [{ prefix: 'a' }] }] }],
    ['numeric with an unknown operator', { n: [{ numeric: ['<>', 1] }] }],
    ['numeric with a string bound', { n: [{ numeric: ['>', '1'] }] }],
    ['numeric with two upper bounds', { n: [{ numeric: ['<', 1, '<=', 2] }] }],
    ['numeric with the upper bound first', { n: [{ numeric: ['<', 10, '>', 0] }] }],
    ['numeric with bottom above top', { n: [{ numeric: ['>', 10, '<', 5] }] }],
    ['numeric = with a second pair', { n: [{ numeric: ['=', 1, '<', 2] }] }],
    ['exists with a string', { n: [{ exists: 'true' }] }],
    ['cidr without a mask', { ip: [{ cidr: '10.0.0.0' }] }],
    ['cidr with a mask too long', { ip: [{ cidr: '10.0.0.0/33' }] }],
    ['cidr IPv6 with a mask too long', { ip: [{ cidr: '2001:db8::/129' }] }],
    ['cidr with a bad address', { ip: [{ cidr: '10.0.0.256/24' }] }],
  ])('%s', (_name, policy) => {
    expect(() => compileFilterPolicy(policy, 'MessageBody')).toThrow(InvalidFilterPolicyError);
  });

  test('an unknown scope', () => {
    expect(() => compileFilterPolicy({ k: ['x'] }, 'Body' as never)).toThrow(InvalidFilterPolicyError);
  });
});

describe('properties', () => {
  const text = fc.string({ maxLength: 12 });

  test('a policy of exact strings matches exactly the listed values, in both scopes', () => {
    fc.assert(fc.property(fc.uniqueArray(text, { minLength: 1, maxLength: 20 }), text, (listed, value) => {
      const policy = { k: listed };
      const expected = listed.includes(value);
      return attributes(policy, { k: S(value) }) === expected
        && body(policy, { k: value }) === expected
        && body({ k: [{ 'anything-but': listed }] }, { k: value }) === !expected;
    }));
  });

  test('a numeric range matches exactly the numbers inside it', () => {
    const n = fc.integer({ min: -1_000_000_000, max: 1_000_000_000 });
    fc.assert(fc.property(n, n, n, (a, b, x) => {
      fc.pre(a < b);
      const policy = { k: [{ numeric: ['>=', a, '<', b] }] };
      return attributes(policy, { k: N(x) }) === (a <= x && x < b) && body(policy, { k: x }) === (a <= x && x < b);
    }));
  });
});
