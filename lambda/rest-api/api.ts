/**
 * REST resource service: API Gateway REST API (Lambda proxy integration, v1 payload) -> DynamoDB.
 *
 * Routes `/<RESOURCE_NAME>` (GET list, POST create) and `/<RESOURCE_NAME>/{id}` (GET, PUT, DELETE)
 * with ETags/If-Match optimistic concurrency, Idempotency-Key on create, opaque paging tokens and
 * an optional JSON Schema: the resource contract of `lambda/shared/resource-api/routes.ts`, stored
 * by `lib/item-store.ts`, optionally per caller (ITEM_OWNER_CLAIM). Configuration: see `lib/config.ts` (validated at cold start).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult } from 'aws-lambda';
import { classifyAwsError } from '../shared/aws-errors';
import { invocationDeadline } from '../shared/deadline';
import { JSON_NUMBER_OPTIONS, lazyDocumentClient } from '../shared/dynamodb';
import { withCors } from '../shared/http';
import { ServiceUnavailableError } from '../shared/http-errors';
import { answerApiError, createLogger, startApiInvocation } from '../shared/logger';
import { loadConfig } from './lib/config';
import { assertDynamoItemStorable, dynamoItemStore } from './lib/item-store';
import { requestOwner } from '../shared/resource-api/owner';
import { routeResourceRequest } from '../shared/resource-api/routes';

const config = loadConfig();
const logger = createLogger(config.resourceName);
const db = lazyDocumentClient(JSON_NUMBER_OPTIONS);

export const handler: APIGatewayProxyHandler = async (event, context): Promise<APIGatewayProxyResult> => {
  const request: APIGatewayProxyEvent = event ?? ({} as APIGatewayProxyEvent);
  const requestId = startApiInvocation(logger, request, context);
  let response: APIGatewayProxyResult;
  try {
    const owner = config.ownerClaim === undefined ? undefined : requestOwner(request, config.ownerClaim);
    const store = dynamoItemStore({
      db, tableName: config.tableName, resourceName: config.resourceName, owner, abortSignal: invocationDeadline(context),
    });
    response = await routeResourceRequest(request, { settings: config, store, assertStorable: assertDynamoItemStorable });
  } catch (caught) {
    // Throttling, timeouts (a lost answer included) and the invocation deadline: 503 with
    // Retry-After. A retry is safe for PUT/DELETE (conditional) and for POST with an
    // Idempotency-Key. Anything else unexpected, a DynamoDB server fault included, is a 500.
    const kind = classifyAwsError(caught);
    const transient = kind === 'throttling' || kind === 'timeout' || kind === 'aborted';
    const err = transient ? new ServiceUnavailableError(undefined, 1, caught) : caught;
    response = answerApiError(logger, caught, err, requestId);
  }
  return withCors(response, request, config.cors);
};
