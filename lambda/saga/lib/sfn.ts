/** The Step Functions client of the saga's API handlers: timeouts and SDK retries like every client here. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClientConfig, lazy } from '../../shared/aws-client';

export const lazySfnClient = (): (() => SFNClient) => lazy(() => new SFNClient({ ...awsClientConfig() }));
