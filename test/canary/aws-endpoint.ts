/**
 * A scripted AWS endpoint on 127.0.0.1 for the bundle tests, where the SDK runs in a fresh `node`
 * process and cannot be mocked: the bundle is pointed here with `AWS_ENDPOINT_URL_<SERVICE>`.
 * Unlike `test/helpers/http-server.ts` it keeps each request body, since what the hooks send
 * (the CodeDeploy status, the metric queries, the Invoke payload) is what the tests check. Requests
 * are routed by the JSON protocols' `x-amz-target` header (CodeDeploy: JSON 1.1, CloudWatch:
 * JSON 1.0) or, for Lambda's REST protocol, by path.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listenOnLoopback } from '../../local/engines/loopback';

export interface AwsRequest {
  readonly method: string;
  /** Decoded path, e.g. `/2015-03-31/functions/arn:aws:lambda:...:7/invocations`. */
  readonly path: string;
  /** `x-amz-target` without the service prefix, e.g. `GetMetricData`. */
  readonly operation?: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface AwsResponse {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON. */
  readonly json: unknown;
}

export interface AwsEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: AwsRequest[];
  close(): Promise<void>;
}

export async function startAwsEndpoint(respond: (request: AwsRequest, index: number) => AwsResponse): Promise<AwsEndpoint> {
  const requests: AwsRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      const request: AwsRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname),
        ...(typeof target === 'string' ? { operation: target.slice(target.indexOf('.') + 1) } : {}),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      let response: AwsResponse;
      try {
        response = respond(request, requests.length - 1);
      } catch (err) {
        response = { status: 500, json: { __type: 'TestEndpointError', message: String(err) } };
      }
      res.writeHead(response.status ?? 200, { 'content-type': 'application/json', ...response.headers });
      res.end(JSON.stringify(response.json));
    });
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
