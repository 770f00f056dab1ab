/**
 * What the local runner does not emulate, said at start-up and on the first call rather than as a
 * confusing failure later:
 * - `servicesWithoutEngine` reads each function's IAM policies for the services it may call and
 *   names those with no local engine;
 * - `startNotEmulatedEndpoint` is every function's fallback endpoint (`AWS_ENDPOINT_URL`), so an
 *   SDK call to such a service fails at once with a clear error and never reaches real AWS.
 */
import { createServer, type Server } from 'node:http';
import { readBody } from './engines/aws-protocol';
import { closeServer, listenOnLoopback } from './engines/loopback';
import type { LocalTemplate } from './template';

/** IAM service prefixes whose calls a function makes on resources the runner emulates. */
export const EMULATED_SERVICES = new Set([
  'dynamodb', 'sqs', 'sns', 'events', 'kinesis', 'secretsmanager', 'states', 'lambda', 'rds-db', 'elasticfilesystem',
]);
/** Prefixes a function's policy has for the platform's sake, not for calls in its code. */
const PLATFORM_SERVICES = new Set(['logs', 'xray', 'kms', 'ec2']);

function actionsOf(document: unknown): string[] {
  const statements = (document as { Statement?: unknown } | undefined)?.Statement;
  const list = Array.isArray(statements) ? statements : statements === undefined ? [] : [statements];
  return list.flatMap((s: { Effect?: string; Action?: string | string[] }) =>
    (s.Effect === 'Allow' ? [s.Action ?? []].flat() : []));
}

/** Per function logical id: the services its role's policies allow and the runner does not emulate. */
export function servicesWithoutEngine(template: LocalTemplate, functionIds: readonly string[]): Map<string, string[]> {
  const roleActions = new Map<string, string[]>();
  const add = (roleRef: unknown, actions: string[]): void => {
    const key = String(roleRef);
    roleActions.set(key, [...(roleActions.get(key) ?? []), ...actions]);
  };
  for (const [id] of template.resources('AWS::IAM::Role')) {
    const props = template.properties(id);
    for (const policy of (props.Policies ?? []) as Array<{ PolicyDocument?: unknown }>) add(template.ref(id), actionsOf(policy.PolicyDocument));
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id] of template.resources(type)) {
      const props = template.properties(id);
      for (const role of (props.Roles ?? []) as unknown[]) add(role, actionsOf(props.PolicyDocument));
    }
  }
  const result = new Map<string, string[]>();
  for (const id of functionIds) {
    const role = String(template.properties(id).Role ?? '');
    const roleName = role.startsWith('arn:') ? role.slice(role.lastIndexOf('/') + 1) : role;
    const services = new Set<string>();
    for (const action of roleActions.get(roleName) ?? []) {
      const service = action.split(':')[0]?.toLowerCase() ?? '';
      if (service !== '' && service !== '*' && !EMULATED_SERVICES.has(service) && !PLATFORM_SERVICES.has(service)) services.add(service);
    }
    if (services.size > 0) result.set(id, [...services].sort());
  }
  return result;
}

export interface NotEmulatedEndpoint {
  readonly endpoint: string;
  /** The calls refused so far, as `service operation` text. */
  readonly refused: string[];
  stop(): Promise<void>;
}

/**
 * Answers every call with an error the SDK raises by name (`NotEmulatedByLocalRunner`) and a
 * message that names the service and operation, in the JSON or the query protocol.
 */
export async function startNotEmulatedEndpoint(): Promise<NotEmulatedEndpoint> {
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const form = new URLSearchParams(body.toString('utf8'));
      const authorization = String(req.headers.authorization ?? '');
      const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1] ?? (target.split('.')[0] || 'this service');
      const operation = target.split('.')[1] ?? form.get('Action') ?? `${req.method} ${req.url}`;
      refused.push(`${service} ${operation}`);
      const text = `${service} ${operation}: the local runner does not emulate this service (see "What runs locally" in the README)`;
      if (target === '' && form.get('Action') !== null) {
        res.writeHead(501, { 'content-type': 'text/xml' });
        res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>NotEmulatedByLocalRunner</Code><Message>${text}</Message></Error><RequestId>local</RequestId></ErrorResponse>`);
        return;
      }
      res.writeHead(501, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'NotEmulatedByLocalRunner' });
      res.end(JSON.stringify({ __type: 'NotEmulatedByLocalRunner', message: text, Message: text }));
    }).catch(() => {
      // The caller went away mid-request: there is no one to answer.
      res.destroy();
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    refused,
    stop: () => closeServer(server),
  };
}
