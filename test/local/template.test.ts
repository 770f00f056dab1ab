/**
 * LocalTemplate (local/template.ts) over hand-written templates, against the CloudFormation user
 * guide's "Intrinsic function reference" (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, Fn::If and the condition functions, Fn::FindInMap, Fn::GetAZs, Fn::Base64,
 * AWS::NoValue), "Pseudo parameters reference" and the resources' "Return values": the names,
 * `Ref` values and attributes a stack's resources get, engines' rebinding, and clear errors for
 * what the local runner does not evaluate.
 */
import type { AssemblyStack, CfnTemplate } from '../../local/assembly';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/engines/aws-protocol';
import { LocalTemplate, TemplateError } from '../../local/template';

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';

function stackOf(template: Partial<CfnTemplate>, stackName = 'Shop'): AssemblyStack {
  return {
    id: stackName,
    stackName,
    template: { Resources: {}, ...template },
    assemblyDir: '/nowhere',
    assetPathOfObjectKey: () => undefined,
  };
}

function templateOf(template: Partial<CfnTemplate>, stackName = 'Shop'): LocalTemplate {
  return new LocalTemplate(stackOf(template, stackName), { region: REGION, account: ACCOUNT });
}

/** A small stack: a table, a queue, a topic, a function, a bucket. */
const SHOP: Partial<CfnTemplate> = {
  Parameters: {
    Env: { Type: 'String', Default: 'dev' },
    NoDefault: { Type: 'String' },
  },
  Mappings: {
    Sizes: { [REGION]: { Memory: 512 }, dev: { Memory: 128 } },
  },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
    IsDev: { 'Fn::Equals': ['dev', { Ref: 'Env' }] },
    NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    DevAndNotProd: { 'Fn::And': [{ Condition: 'IsDev' }, { Condition: 'NotProd' }] },
    ProdOrDev: { 'Fn::Or': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] },
    ProdAndDev: { 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] },
    InThisRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, REGION] },
  },
  Resources: {
    OrdersTable: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    OrdersQueue: { Type: 'AWS::SQS::Queue', Properties: {} },
    EventsTopic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Handler: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'shop-handler' } },
    Assets: { Type: 'AWS::S3::Bucket', Properties: {} },
    ProdOnlyQueue: { Type: 'AWS::SQS::Queue', Condition: 'IsProd', Properties: {} },
    DevOnlyQueue: { Type: 'AWS::SQS::Queue', Condition: 'IsDev', Properties: {} },
  },
};

describe('Ref and Fn::GetAtt', () => {
  const template = templateOf(SHOP);

  test('Ref gives each resource type\'s documented return value', () => {
    expect(template.resolve({ Ref: 'OrdersTable' })).toBe('Shop-OrdersTable');
    expect(template.resolve({ Ref: 'OrdersQueue' })).toBe(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Shop-OrdersQueue`);
    expect(template.resolve({ Ref: 'EventsTopic' })).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:Shop-EventsTopic`);
    expect(template.resolve({ Ref: 'Handler' })).toBe('shop-handler');
    expect(template.resolve({ Ref: 'Assets' })).toBe('shop-assets');
  });

  test('Fn::GetAtt gives attributes, in the list and the dotted form', () => {
    expect(template.resolve({ 'Fn::GetAtt': ['OrdersTable', 'Arn'] })).toBe(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Shop-OrdersTable`);
    expect(template.resolve({ 'Fn::GetAtt': 'OrdersQueue.Arn' })).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:Shop-OrdersQueue`);
    expect(template.resolve({ 'Fn::GetAtt': ['OrdersQueue', 'QueueName'] })).toBe('Shop-OrdersQueue');
    expect(template.resolve({ 'Fn::GetAtt': ['Handler', 'Arn'] })).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:shop-handler`);
    expect(template.resolve({ 'Fn::GetAtt': ['Assets', 'Arn'] })).toBe('arn:aws:s3:::shop-assets');
    expect(template.resolve({ 'Fn::GetAtt': ['OrdersTable', 'StreamArn'] }))
      .toMatch(new RegExp(`^arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Shop-OrdersTable/stream/`));
  });

  test('the attribute name of Fn::GetAtt may be a Ref', () => {
    const withParameter = templateOf({ ...SHOP, Parameters: { ...SHOP.Parameters, Attribute: { Type: 'String', Default: 'QueueName' } } });
    expect(withParameter.resolve({ 'Fn::GetAtt': ['OrdersQueue', { Ref: 'Attribute' }] })).toBe('Shop-OrdersQueue');
  });

  test('an attribute nobody modelled resolves to a visible made-up value', () => {
    expect(template.getAtt('OrdersTable', 'LatestStreamLabel')).toBe('local-OrdersTable-LatestStreamLabel');
  });

  test('Ref to a parameter gives its default', () => {
    expect(template.resolve({ Ref: 'Env' })).toBe('dev');
  });

  test('fails when a parameter has no default, or a resource does not exist', () => {
    expect(() => template.resolve({ Ref: 'NoDefault' })).toThrow(/parameter NoDefault has no default/);
    expect(() => template.resolve({ Ref: 'Missing' })).toThrow(/the template has no resource Missing/);
    expect(() => template.resolve({ Ref: 'Missing' })).toThrow(TemplateError);
  });
});

describe('pseudo parameters', () => {
  test('Region, AccountId, Partition, URLSuffix, StackName and StackId', () => {
    const template = templateOf(SHOP);
    expect(template.resolve({ Ref: 'AWS::Region' })).toBe(REGION);
    expect(template.resolve({ Ref: 'AWS::AccountId' })).toBe(ACCOUNT);
    expect(template.resolve({ Ref: 'AWS::Partition' })).toBe('aws');
    expect(template.resolve({ Ref: 'AWS::URLSuffix' })).toBe('amazonaws.com');
    expect(template.resolve({ Ref: 'AWS::StackName' })).toBe('Shop');
    const stackId = String(template.resolve({ Ref: 'AWS::StackId' }));
    expect(stackId).toMatch(new RegExp(`^arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Shop/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));
  });

  test('the Region and account default to the local ones', () => {
    const template = new LocalTemplate(stackOf(SHOP));
    expect(template.resolve({ 'Fn::Sub': '${AWS::Region}/${AWS::AccountId}' })).toBe(`${LOCAL_REGION}/${LOCAL_ACCOUNT}`);
  });
});

describe('Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64, Fn::GetAZs, Fn::FindInMap', () => {
  const template = templateOf(SHOP);

  test('Fn::Join joins resolved values with the delimiter', () => {
    expect(template.resolve({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'sqs', { Ref: 'AWS::Region' }]] })).toBe(`arn:aws:sqs:${REGION}`);
    expect(template.resolve({ 'Fn::Join': ['', []] })).toBe('');
  });

  test('Fn::Sub replaces ${Param}, ${Resource}, ${Resource.Attr} and pseudo parameters; ${!Literal} stays literal', () => {
    expect(template.resolve({ 'Fn::Sub': 'table ${OrdersTable} in ${AWS::Region} for ${Env}' })).toBe(`table Shop-OrdersTable in ${REGION} for dev`);
    expect(template.resolve({ 'Fn::Sub': '${OrdersQueue.QueueName} ${Handler.Arn}' }))
      .toBe(`Shop-OrdersQueue arn:aws:lambda:${REGION}:${ACCOUNT}:function:shop-handler`);
    expect(template.resolve({ 'Fn::Sub': '${!Literal} and ${!OrdersTable.Arn}' })).toBe('${Literal} and ${OrdersTable.Arn}');
  });

  test('Fn::Sub with a variables map: variables (themselves intrinsics) win over names in the template', () => {
    expect(template.resolve({
      'Fn::Sub': ['${Env}-${Name}-${OrdersTable}', { Name: { 'Fn::GetAtt': ['OrdersQueue', 'QueueName'] }, Env: 'overridden' }],
    })).toBe('overridden-Shop-OrdersQueue-Shop-OrdersTable');
  });

  test('Fn::Select picks an item of a list; Fn::Split makes one', () => {
    expect(template.resolve({ 'Fn::Select': ['1', { 'Fn::Split': [',', 'a,b,c'] }] })).toBe('b');
    expect(template.resolve({ 'Fn::Split': ['/', { 'Fn::Sub': 'x/${Env}/y' }] })).toEqual(['x', 'dev', 'y']);
    expect(template.resolve({ 'Fn::Select': [0, ['only']] })).toBe('only');
  });

  test('Fn::GetAZs lists zones of the stack\'s Region (an empty string) or of the Region named', () => {
    expect(template.resolve({ 'Fn::GetAZs': '' })).toEqual([`${REGION}a`, `${REGION}b`, `${REGION}c`]);
    expect(template.resolve({ 'Fn::GetAZs': { Ref: 'AWS::Region' } })).toEqual([`${REGION}a`, `${REGION}b`, `${REGION}c`]);
    expect(template.resolve({ 'Fn::GetAZs': 'us-west-2' })).toEqual(['us-west-2a', 'us-west-2b', 'us-west-2c']);
    expect(template.resolve({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] })).toBe(`${REGION}a`);
  });

  test('Fn::Base64 encodes the resolved string', () => {
    expect(template.resolve({ 'Fn::Base64': { 'Fn::Sub': '#!/bin/sh\necho ${Env}' } })).toBe(Buffer.from('#!/bin/sh\necho dev').toString('base64'));
  });

  test('Fn::FindInMap looks up resolved keys', () => {
    expect(template.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'AWS::Region' }, 'Memory'] })).toBe(512);
    expect(template.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Memory'] })).toBe(128);
    expect(() => template.resolve({ 'Fn::FindInMap': ['Sizes', 'prod', 'Memory'] })).toThrow(/Sizes\.prod\.Memory is not in the template's mappings/);
  });
});

describe('conditions', () => {
  const template = templateOf(SHOP);

  test('Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references', () => {
    expect(template.condition('IsProd')).toBe(false);
    expect(template.condition('IsDev')).toBe(true);
    expect(template.condition('NotProd')).toBe(true);
    expect(template.condition('DevAndNotProd')).toBe(true);
    expect(template.condition('ProdOrDev')).toBe(true);
    expect(template.condition('ProdAndDev')).toBe(false);
    expect(template.condition('InThisRegion')).toBe(true);
  });

  test('Fn::If picks its branch by the condition', () => {
    expect(template.resolve({ 'Fn::If': ['IsProd', 'big', 'small'] })).toBe('small');
    expect(template.resolve({ 'Fn::If': ['ProdOrDev', { Ref: 'OrdersTable' }, 'none'] })).toBe('Shop-OrdersTable');
  });

  test('a resource whose condition is false does not exist', () => {
    const ids = template.resources('AWS::SQS::Queue').map(([id]) => id);
    expect(ids).toEqual(['OrdersQueue', 'DevOnlyQueue']);
    expect(template.resources().map(([id]) => id)).not.toContain('ProdOnlyQueue');
  });

  test('fails when a condition is not defined', () => {
    expect(() => template.condition('Unknown')).toThrow(/the template has no condition Unknown/);
    expect(() => template.resolve({ 'Fn::If': ['Unknown', 1, 2] })).toThrow(TemplateError);
  });
});

describe('AWS::NoValue', () => {
  test('removes the property or the list item it is given for, also through Fn::If', () => {
    const template = templateOf(SHOP);
    expect(template.resolve({
      Name: 'kept',
      Removed: { Ref: 'AWS::NoValue' },
      Optional: { 'Fn::If': ['IsProd', 'prod-only', { Ref: 'AWS::NoValue' }] },
      List: ['a', { Ref: 'AWS::NoValue' }, { 'Fn::If': ['IsDev', 'dev', { Ref: 'AWS::NoValue' }] }],
    })).toStrictEqual({ Name: 'kept', List: ['a', 'dev'] });
  });

  test('properties() resolves a resource\'s properties', () => {
    const template = templateOf({
      ...SHOP,
      Resources: {
        ...SHOP.Resources,
        Worker: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            MemorySize: { 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Memory'] },
            ReservedConcurrentExecutions: { 'Fn::If': ['IsProd', 10, { Ref: 'AWS::NoValue' }] },
            Environment: { Variables: { QUEUE_URL: { Ref: 'OrdersQueue' } } },
          },
        },
      },
    });
    expect(template.properties('Worker')).toStrictEqual({
      MemorySize: 128,
      Environment: { Variables: { QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Shop-OrdersQueue` } },
    });
  });
});

describe('physical names', () => {
  test('an explicit name is kept, resolved', () => {
    const template = templateOf({
      Resources: {
        Named: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-jobs.fifo' }, FifoQueue: true } },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'explicit' } },
        Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'my-explicit-bucket' } },
      },
    });
    expect(template.physicalName('Named')).toBe('Shop-jobs.fifo');
    expect(template.physicalName('Fn')).toBe('explicit');
    expect(template.physicalName('Bucket')).toBe('my-explicit-bucket');
  });

  test('a generated name is <stack>-<logicalId>; bucket names are lowercase', () => {
    const template = templateOf({
      Resources: {
        Worker: { Type: 'AWS::Lambda::Function', Properties: {} },
        Jobs: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
        SiteBucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      },
    }, 'OrdersStack');
    expect(template.physicalName('Worker')).toBe('OrdersStack-Worker');
    expect(template.physicalName('Jobs')).toBe('OrdersStack-Jobs.fifo');
    expect(template.physicalName('SiteBucket')).toBe('ordersstack-sitebucket');
  });

  test('a long generated name fits the service\'s limit, stays unique and stable', () => {
    const long = 'VeryLongLogicalIdOfAResourceNestedDeepInsideAConstructTree';
    const stackName = 'AnExtremelyLongStackNameForTestingNameLimits';
    const resources = {
      [`${long}A`]: { Type: 'AWS::Lambda::Function', Properties: {} },
      [`${long}B`]: { Type: 'AWS::Lambda::Function', Properties: {} },
      [`${long}Queue`]: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
      [`${long}Standard`]: { Type: 'AWS::SQS::Queue', Properties: {} },
      [`${long}Bucket`]: { Type: 'AWS::S3::Bucket', Properties: {} },
    };
    const template = templateOf({ Resources: resources }, stackName);
    const functionA = template.physicalName(`${long}A`);
    const functionB = template.physicalName(`${long}B`);
    expect(functionA.length).toBeLessThanOrEqual(64);
    expect(functionA.startsWith(`${stackName}-`)).toBe(true);
    expect(functionA).not.toBe(functionB);
    expect(templateOf({ Resources: resources }, stackName).physicalName(`${long}A`)).toBe(functionA);

    const fifo = template.physicalName(`${long}Queue`);
    expect(fifo.length).toBeLessThanOrEqual(80);
    expect(fifo.endsWith('.fifo')).toBe(true);
    expect(template.physicalName(`${long}Standard`).length).toBeLessThanOrEqual(80);

    const bucket = template.physicalName(`${long}Bucket`);
    expect(bucket.length).toBeLessThanOrEqual(63);
    expect(bucket).toBe(bucket.toLowerCase());
  });

  test('Ref and attributes use the physical name', () => {
    const template = templateOf({ Resources: { Worker: { Type: 'AWS::Lambda::Function', Properties: {} } } });
    expect(template.ref('Worker')).toBe('Shop-Worker');
    expect(template.getAtt('Worker', 'Arn')).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:Shop-Worker`);
  });
});

describe('bind and logicalIdOf', () => {
  test('bind overrides Ref and merges attributes over the defaults, and resolve uses them', () => {
    const template = templateOf(SHOP);
    template.bind('OrdersQueue', { ref: 'http://127.0.0.1:9324/queue/Shop-OrdersQueue', attributes: { QueueUrl: 'http://127.0.0.1:9324/queue/Shop-OrdersQueue' } });
    template.bind('OrdersQueue', { attributes: { Extra: 'x' } });
    expect(template.ref('OrdersQueue')).toBe('http://127.0.0.1:9324/queue/Shop-OrdersQueue');
    expect(template.getAtt('OrdersQueue', 'QueueUrl')).toBe('http://127.0.0.1:9324/queue/Shop-OrdersQueue');
    expect(template.getAtt('OrdersQueue', 'Extra')).toBe('x');
    expect(template.getAtt('OrdersQueue', 'Arn')).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:Shop-OrdersQueue`);
    expect(template.resolve({ 'Fn::Sub': '${OrdersQueue}' })).toBe('http://127.0.0.1:9324/queue/Shop-OrdersQueue');
  });

  test('logicalIdOf finds a resource by its Ref value or ARN, bound values included', () => {
    const template = templateOf(SHOP);
    expect(template.logicalIdOf('Shop-OrdersTable')).toBe('OrdersTable');
    expect(template.logicalIdOf(`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Shop-OrdersTable`)).toBe('OrdersTable');
    expect(template.logicalIdOf(`arn:aws:sns:${REGION}:${ACCOUNT}:Shop-EventsTopic`)).toBe('EventsTopic');
    template.bind('OrdersQueue', { ref: 'http://127.0.0.1:1/queue/orders' });
    expect(template.logicalIdOf('http://127.0.0.1:1/queue/orders')).toBe('OrdersQueue');
    expect(template.logicalIdOf('arn:aws:sqs:eu-west-1:111122223333:unknown')).toBeUndefined();
  });

  test('logicalIdOf does not find a resource whose condition is false', () => {
    const template = templateOf(SHOP);
    expect(template.logicalIdOf('Shop-DevOnlyQueue')).toBeUndefined(); // a queue's Ref is its URL
    expect(template.logicalIdOf(`arn:aws:sqs:${REGION}:${ACCOUNT}:Shop-DevOnlyQueue`)).toBe('DevOnlyQueue');
    expect(template.logicalIdOf(`arn:aws:sqs:${REGION}:${ACCOUNT}:Shop-ProdOnlyQueue`)).toBeUndefined();
  });
});

describe('what the local runner does not evaluate', () => {
  const template = templateOf(SHOP);

  test('fails when a value is imported from another stack', () => {
    expect(() => template.resolve({ 'Fn::ImportValue': 'SharedVpcId' })).toThrow(/Fn::ImportValue "SharedVpcId": stacks that import another stack's outputs are not run locally/);
  });

  test('fails on an unknown intrinsic function, naming it', () => {
    expect(() => template.resolve({ 'Fn::Length': [1, 2] })).toThrow(/the local runner does not evaluate Fn::Length/);
    expect(() => template.resolve({ Nested: { List: [{ 'Fn::Transform': {} }] } })).toThrow(TemplateError);
  });

  test('an object with more than one key is data, not a function', () => {
    expect(template.resolve({ 'Fn::Join': 'not-called', 'Other': 1 })).toEqual({ 'Fn::Join': 'not-called', 'Other': 1 });
  });
});
