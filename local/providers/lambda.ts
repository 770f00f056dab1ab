/**
 * Lambda's Invoke API for the stack's own functions (`AWS_ENDPOINT_URL_LAMBDA`), so that a function
 * (a traffic hook's smoke test, a custom resource provider) or a test's SDK client can invoke
 * another: `RequestResponse` answers the result, or the error with `X-Amz-Function-Error:
 * Unhandled`; `Event` answers 202 and runs it in the background, with Lambda's retries and
 * failure destinations (`RunningFunctions.invokeAsync`); `DryRun` answers 204. Other Lambda operations are
 * refused as not emulated.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { readBody } from '../engines/aws-protocol';
import { closeServer, listenOnLoopback } from '../engines/loopback';
import type { Provider, RunContext, RunningFunctions } from '../provider';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify({ Type: 'User', Message: message, message }));
}

export class LambdaProvider implements Provider {
  public readonly name = 'Lambda';
  private functions: RunningFunctions | undefined;
  private readonly background = new Set<Promise<unknown>>();

  public async prepare(context: RunContext): Promise<void> {
    const server: Server = createServer((req, res) => {
      void readBody(req).then(async (body) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const match = INVOKE_PATH.exec(url.pathname);
        if (req.method !== 'POST' || match === null) {
          return sendError(res, 501, 'NotEmulatedByLocalRunner', `lambda ${req.method} ${url.pathname}: the local runner emulates only Invoke`);
        }
        const name = decodeURIComponent(match[1]!);
        const qualifier = url.searchParams.get('Qualifier');
        const functionId = qualifier !== null && !name.startsWith('arn:') ? `${name}:${qualifier}` : name;
        const functions = this.functions;
        if (functions === undefined || !functions.has(functionId)) return sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${functionId}`);
        let event: unknown = null;
        try {
          event = body.length === 0 ? null : JSON.parse(body.toString('utf8'));
        } catch {
          return sendError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
        }
        const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
        if (type === 'DryRun') {
          res.writeHead(204, { 'x-amzn-requestid': randomUUID() }).end();
          return;
        }
        if (type === 'Event') {
          const run = functions.invokeAsync(functionId, event);
          this.background.add(run);
          void run.finally(() => this.background.delete(run));
          res.writeHead(202, { 'x-amzn-requestid': randomUUID() }).end();
          return;
        }
        const outcome = await functions.invoke(functionId, event);
        const headers = { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), 'x-amz-executed-version': '$LATEST' };
        if (outcome.ok) {
          res.writeHead(200, headers).end(JSON.stringify(outcome.payload));
        } else {
          res.writeHead(200, { ...headers, 'x-amz-function-error': 'Unhandled' })
            .end(JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: outcome.trace ?? [] }));
        }
      }).catch((error: unknown) => {
        // A request whose caller went away mid-body: nobody waits for an answer.
        context.log(`Lambda Invoke: ${String(error)}`);
        if (!res.headersSent) sendError(res, 500, 'ServiceException', String(error));
      });
    });
    const endpoint = await listenOnLoopback(server);
    context.endpoint('LAMBDA', endpoint);
    context.onStop(async () => {
      await closeServer(server);
    });
    context.report(`Lambda   ${endpoint} (Invoke)`);
  }

  public async connect(_context: RunContext, functions: RunningFunctions): Promise<void> {
    this.functions = functions;
  }

  /** Waits for the asynchronous invocations started so far. */
  public async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }
}
