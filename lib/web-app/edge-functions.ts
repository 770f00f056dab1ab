/**
 * CloudFront Functions (cloudfront-js-2.0) of the web application, as source text. The browser
 * test routes its local requests through this same code, so what it proves is what CloudFront runs.
 */

/**
 * Viewer request on `/api/*`: drops the `/api` prefix, so `/api/items/1` reaches the REST API
 * stage as `/items/1` (the origin path adds the stage name), and says so in
 * `X-Forwarded-Prefix: /api`, so that the API answers with the paths the client uses
 * (`Location: /api/items/<id>`).
 */
export const API_PREFIX_STRIP_CODE = [
  'function handler(event) {',
  '  var request = event.request;',
  "  request.uri = request.uri.replace(/^\\/api(?=\\/|$)/, '') || '/';",
  '  request.headers = request.headers || {};',
  "  request.headers['x-forwarded-prefix'] = { value: '/api' };",
  '  return request;',
  '}',
].join('\n');

/**
 * Viewer request on the site: a path whose last segment has no file extension is an SPA route
 * and gets `/index.html`; files pass through unchanged (a missing file stays an error). Only the
 * default behaviour runs it, so API responses are never rewritten - unlike distribution-wide error
 * responses, which would turn an API 403/404 into the SPA's HTML.
 */
export const SPA_ROUTE_FALLBACK_CODE = [
  'function handler(event) {',
  '  var request = event.request;',
  "  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);",
  "  if (last.indexOf('.') === -1) {",
  "    request.uri = '/index.html';",
  '  }',
  '  return request;',
  '}',
].join('\n');

/** The part of a CloudFront Functions viewer request the functions above read and write. */
export interface EdgeRequest {
  uri: string;
  [field: string]: unknown;
}

/** Evaluates one of the functions above, for tests and local servers: `(event) => request`. */
export function loadEdgeFunction(code: string): (event: { request: EdgeRequest }) => EdgeRequest {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(`${code}\nreturn handler;`)() as never;
}
