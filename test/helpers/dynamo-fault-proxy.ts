/**
 * A fault-injecting HTTP proxy in front of a local DynamoDB engine: a request is forwarded and
 * applied, and then its response can be lost (the connection is reset instead of answered), as
 * when a response arrives after the client's timeout or the network drops it. No engine can
 * produce this fault; the proxy does it without touching the engine or the handler.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { startDynalite, type LocalDynamo } from './dynalite';
import { listenOnLoopback } from '../../local/engines/loopback';

export interface DynamoFaultProxy {
  /** Point the SDK here (`AWS_ENDPOINT_URL_DYNAMODB`). */
  readonly endpoint: string;
  /** The next `count` responses to `operation` (e.g. `PutItem`) are lost after the engine applied the request. */
  loseResponses(operation: string, count: number): void;
  /** Requests of `operation` get no answer at all until `release` (or `stop`): a hung call. */
  holdResponses(operation: string): void;
  release(operation: string): void;
  /** How many requests of `operation` reached the engine. */
  forwarded(operation: string): number;
  stop(): Promise<void>;
}

/** `DynamoDB_20120810.PutItem` -> `PutItem` */
function operationOf(headers: IncomingHttpHeaders): string {
  const target = headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : '';
}

export async function startDynamoFaultProxy(upstreamEndpoint: string): Promise<DynamoFaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  const toLose = new Map<string, number>();
  const counts = new Map<string, number>();
  const held = new Set<string>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = operationOf(req.headers);
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      if (held.has(operation)) return; // never answered; `stop` closes the connection
      const forward = request({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      }, (upstreamRes) => {
        const body: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => body.push(chunk));
        upstreamRes.on('end', () => {
          const remaining = toLose.get(operation) ?? 0;
          if (remaining > 0) {
            // Applied by the engine; the client never hears of it.
            toLose.set(operation, remaining - 1);
            req.socket.destroy();
            return;
          }
          res.writeHead(upstreamRes.statusCode ?? 500, upstreamRes.headers);
          res.end(Buffer.concat(body));
        });
      });
      forward.on('error', () => req.socket.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    loseResponses(operation, count) {
      toLose.set(operation, count);
    },
    holdResponses(operation) {
      held.add(operation);
    },
    release(operation) {
      held.delete(operation);
    },
    forwarded: (operation) => counts.get(operation) ?? 0,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local DynamoDB engine and the fault proxy in front of it, for one test file. */
export interface DynamoBehindFaultProxy {
  readonly dynamo: LocalDynamo;
  readonly proxy: DynamoFaultProxy;
}

/**
 * Starts dynalite behind the fault proxy before the file's tests and points the SDK at the proxy
 * (`AWS_ENDPOINT_URL_DYNAMODB`, read when a handler creates its client on its first invocation).
 */
export function useDynamoBehindFaultProxy(): DynamoBehindFaultProxy {
  const local = {} as { dynamo: LocalDynamo; proxy: DynamoFaultProxy };
  beforeAll(async () => {
    local.dynamo = await startDynalite();
    local.proxy = await startDynamoFaultProxy(local.dynamo.endpoint);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = local.proxy.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await local.proxy?.stop();
    await local.dynamo?.stop();
  });
  return local;
}
