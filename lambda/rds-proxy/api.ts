/**
 * Relational resource service: API Gateway REST API (Lambda proxy integration, v1 payload) ->
 * Lambda in a VPC -> RDS Proxy (TLS, IAM auth) -> Aurora PostgreSQL.
 *
 * The same resource contract as the REST pattern (`lambda/shared/resource-api/routes.ts`):
 * `/<RESOURCE_NAME>` GET/POST and `/<RESOURCE_NAME>/{id}` GET/PUT/DELETE with ETags, If-Match,
 * Idempotency-Key and opaque paging tokens, stored in PostgreSQL by `lib/item-store.ts` over one
 * connection per execution environment (`lib/db.ts`), optionally per caller (ITEM_OWNER_CLAIM:
 * the authorizer's claim scopes every statement; a request without it is 401 before any
 * statement). Configuration: `lib/config.ts`.
 *
 * Failures: a lost connection, a connect failure, too many connections, a lock or statement
 * timeout are a 503 with Retry-After (reads are retried once on a new connection first); data the
 * server refuses is a 400; anything else a 500.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyHandler, APIGatewayProxyResult } from 'aws-lambda';
import { loadApiConfig } from './lib/config';
import { Database, isTransientDatabaseError, isUnstorableData, unavailable } from './lib/db';
import { assertPostgresStorable, postgresItemStore } from './lib/item-store';
import { invocationDeadline } from '../shared/deadline';
import { withCors } from '../shared/http';
import { BadRequestError, isHttpError } from '../shared/http-errors';
import { answerApiError, createLogger, startApiInvocation } from '../shared/logger';
import { requestOwner } from '../shared/resource-api/owner';
import { routeResourceRequest } from '../shared/resource-api/routes';

const config = loadApiConfig();
const logger = createLogger(config.resourceName);
const database = new Database(config.db, { applicationName: `${config.resourceName}-api`, logger });

/** Database failures as the client should see them; everything else unchanged. */
function toClientError(err: unknown): unknown {
  if (isHttpError(err)) return err;
  if (isTransientDatabaseError(err)) return unavailable(err);
  if (isUnstorableData(err)) return new BadRequestError('The request body cannot be stored', { cause: err });
  return err;
}

export const handler: APIGatewayProxyHandler = async (event, context): Promise<APIGatewayProxyResult> => {
  const request: APIGatewayProxyEvent = event ?? ({} as APIGatewayProxyEvent);
  const requestId = startApiInvocation(logger, request, context);
  let response: APIGatewayProxyResult;
  try {
    const owner = config.ownerClaim === undefined ? undefined : requestOwner(request, config.ownerClaim);
    const store = postgresItemStore(database.session(invocationDeadline(context)), config.resourceName, owner);
    response = await routeResourceRequest(request, { settings: config, store, assertStorable: assertPostgresStorable });
  } catch (caught) {
    const err = toClientError(caught);
    response = answerApiError(logger, caught, err, requestId);
  }
  return withCors(response, request, config.cors);
};
