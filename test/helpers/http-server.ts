/**
 * A scripted HTTP peer on 127.0.0.1 (port 0) for handler tests of outbound calls. Each request is
 * recorded and answered by the current `respond` function: a status, headers and a body, after an
 * optional delay, or a hang (no response, or headers and part of the body then nothing) to
 * exercise timeouts. `close()` also drops keep-alive and hanging connections.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../../local/engines/loopback';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/items?page=2`. */
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

export interface ScriptedResponse {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  /** Sent as it is (takes precedence over `json`). */
  readonly body?: string | Buffer;
  /** Wait before answering. */
  readonly delayMs?: number;
  /** `'no-response'`: never answer; `'after-headers'`: send the headers and half of the body, then nothing. */
  readonly hang?: 'no-response' | 'after-headers';
}

export type Responder = (request: RecordedRequest, index: number) => ScriptedResponse | Promise<ScriptedResponse>;

export interface TestHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** Replaces the responder (and keeps the recorded requests). */
  respond(responder: Responder): void;
  /** Answers the next requests with `responses` in order, then with the last one again. */
  respondInOrder(responses: readonly ScriptedResponse[]): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, scripted: ScriptedResponse): void {
  const body = scripted.body ?? (scripted.json !== undefined ? JSON.stringify(scripted.json) : '');
  const headers: Record<string, string | string[]> = {};
  if (scripted.json !== undefined && scripted.body === undefined) headers['content-type'] = 'application/json';
  for (const [name, value] of Object.entries(scripted.headers ?? {})) headers[name] = typeof value === 'string' ? value : [...value];
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  if (scripted.hang === 'after-headers') {
    res.writeHead(scripted.status ?? 200, { ...headers, 'content-length': String(bytes.length) });
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    return;
  }
  res.writeHead(scripted.status ?? 200, headers);
  res.end(bytes);
}

export async function startHttpServer(responder: Responder = () => ({ status: 404 })): Promise<TestHttpServer> {
  let current = responder;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const parsed = new URL(url, 'http://127.0.0.1');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', url, path: parsed.pathname, query: parsed.searchParams, headers: req.headers };
    const index = requests.length;
    requests.push(recorded);
    req.resume();
    void (async () => {
      try {
        const scripted = await current(recorded, index);
        if (scripted.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
        if (scripted.hang === 'no-response') return;
        if (!res.destroyed) send(res, scripted);
      } catch (err) {
        if (!res.headersSent) res.writeHead(599);
        res.end(String(err));
      }
    })();
  });
  const origin = await listenOnLoopback(server);
  return {
    origin,
    requests,
    respond(next) {
      current = next;
    },
    respondInOrder(responses) {
      let served = 0;
      current = () => responses[Math.min(served++, responses.length - 1)];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
