/** DynamoDB Streams records for tests: the local runner's engine (local/engines/dynamodb-stream.ts). */
export * from '../../local/engines/dynamodb-stream';
