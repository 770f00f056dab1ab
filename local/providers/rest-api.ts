/** The template's REST APIs over HTTP, each on its own port from the runner's `port` on. */
import type { Provider, RunContext, RunningFunctions } from '../provider';
import { restApisOf, serveRestApi, type ServedRestApi } from '../triggers/rest-api';

export class RestApiProvider implements Provider {
  public readonly name = 'API Gateway';
  public readonly apis: ServedRestApi[] = [];

  constructor(private readonly options: { port?: number; host?: string }) {}

  public async connect(context: RunContext, functions: RunningFunctions): Promise<void> {
    let nextPort = this.options.port ?? 3000;
    for (const model of restApisOf(context.template)) {
      const served = await serveRestApi(model, {
        port: nextPort,
        host: this.options.host,
        log: (line) => context.log(line),
        invoke: (arn, event) => (functions.has(arn) ? functions.invoke(arn, event, { invokedArn: arn }) : undefined),
      });
      this.apis.push(served);
      context.onStop(() => served.stop());
      if (nextPort !== 0) nextPort++;
      context.report(`REST API ${model.name}: ${served.url}/  (authorizers: send x-local-identity; nothing is authenticated locally)`);
    }
  }
}
