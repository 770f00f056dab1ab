import { App, Stack } from 'aws-cdk-lib';
import { RestApiExampleStack } from './rest-api';

/** Every example stack of the library, keyed by pattern folder; environment-agnostic, so synth needs no account. */
export function addExampleStacks(app: App): Record<string, Stack> {
  return {
    'rest-api': new RestApiExampleStack(app, 'RestApiExample', {
      description: 'Serverless reference architecture: RESTful microservice (API Gateway -> Lambda -> DynamoDB)',
    }),
  };
}
