/**
 * The template's PostgreSQL databases on PGlite: each Aurora PostgreSQL cluster (with its
 * instances) and each standalone RDS PostgreSQL instance gets its own engine, and the RDS Proxies
 * in front of them lead to it. Their endpoint attributes become 127.0.0.1 and the engine's port;
 * a function that names one in its environment gets that port for a literal port variable and
 * plain TCP instead of TLS. Schema migrations run before anything serves: a `Custom::SchemaMigrations`
 * resource's function is invoked with CloudFormation's Create event, as CDK's provider framework
 * relays it, and start-up fails when it fails.
 *
 * PGlite is one session: the engine's front lets one transaction at a time through (see
 * local/engines/postgres.ts), so functions keep their own connections and run concurrently.
 */
import { randomUUID } from 'node:crypto';
import { PGLITE_VERSION, startLocalPostgres, type LocalPostgres } from '../engines/postgres';
import type { Provider, RunContext, RunningFunctions } from '../provider';
import type { LocalTemplate } from '../template';

const CLUSTER = 'AWS::RDS::DBCluster';
const INSTANCE = 'AWS::RDS::DBInstance';
const PROXY = 'AWS::RDS::DBProxy';
const PROXY_ENDPOINT = 'AWS::RDS::DBProxyEndpoint';
const PROXY_TARGET_GROUP = 'AWS::RDS::DBProxyTargetGroup';
/** Custom resources whose Create is run at start-up, before the APIs serve. */
export const MIGRATION_RESOURCE_TYPES = ['Custom::SchemaMigrations'];
const POSTGRES_PORT = 5432;
const LOCAL_HOST = '127.0.0.1';
/** The attributes of each type that hold a host name. */
const HOST_ATTRIBUTES: Record<string, readonly string[]> = {
  [CLUSTER]: ['Endpoint.Address', 'ReadEndpoint.Address'],
  [INSTANCE]: ['Endpoint.Address'],
  [PROXY]: ['Endpoint'],
  [PROXY_ENDPOINT]: ['Endpoint'],
};
/**
 * TLS settings a function may carry, and the value that means plain TCP: the library's handlers
 * (`DB_TLS`, lambda/rds-proxy/lib/config.ts, which allows `disable` with a loopback host only) and
 * libpq's / node-postgres's `PGSSLMODE`.
 */
const TLS_VARIABLES: Record<string, string> = { DB_TLS: 'disable', PGSSLMODE: 'disable' };
/**
 * Optional variables naming a Secrets Manager secret that a function reads at start-up: the
 * migrations handler's application user (lambda/rds-proxy/migrate.ts). Without a local Secrets
 * Manager the read would fail the migrations, so the variable is left out and that step skipped.
 */
const SECRET_VARIABLES_WITHOUT_ENGINE = ['APP_USER_SECRET_ARN'];
const SECRETS_ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_SECRETS_MANAGER';

interface LocalDatabase {
  /** The cluster's or the standalone instance's logical id. */
  readonly logicalId: string;
  readonly name: string;
  readonly engine: string;
  /** The port the template gives it (what functions see before the local one replaces it). */
  readonly declaredPort: number;
  readonly server: LocalPostgres;
}

/** Walks a raw template value for the resources whose attributes it reads (`Fn::GetAtt`, `Fn::Sub`). */
function attributeReferences(value: unknown, found: Array<[string, string]> = []): Array<[string, string]> {
  if (typeof value === 'string') {
    for (const match of value.matchAll(/\$\{([A-Za-z0-9]+)\.([A-Za-z.]+)\}/g)) found.push([match[1]!, match[2]!]);
  } else if (Array.isArray(value)) {
    for (const item of value) attributeReferences(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Fn::GetAtt') {
        const [logicalId, attribute] = Array.isArray(inner) ? inner.map(String) : String(inner).split(/\.(.+)/);
        found.push([logicalId!, attribute ?? '']);
      } else {
        attributeReferences(inner, found);
      }
    }
  }
  return found;
}

function isPostgres(template: LocalTemplate, logicalId: string): boolean {
  const props = template.properties(logicalId);
  const engine = String(props.Engine ?? props.EngineFamily ?? '').toLowerCase();
  return engine.includes('postgres');
}

export class PostgresProvider implements Provider {
  public readonly name = 'PostgreSQL';
  /** The databases, by the logical id of their cluster or standalone instance. */
  public readonly databases = new Map<string, LocalDatabase>();
  /** The database behind each cluster, instance, proxy and proxy endpoint, by logical id. */
  private readonly endpoints = new Map<string, LocalDatabase>();
  private context: RunContext | undefined;

  public async prepare(context: RunContext): Promise<void> {
    this.context = context;
    const { template } = context;
    const clusters = template.resources(CLUSTER).map(([id]) => id);
    const instances = template.resources(INSTANCE).map(([id]) => id);
    const proxies = template.resources(PROXY).map(([id]) => id);
    if (clusters.length + instances.length + proxies.length === 0) return;
    // Ref gives the identifier (the proxy's name), so that target groups and instances find theirs.
    for (const id of [...clusters, ...instances, ...proxies]) template.bind(id, { ref: template.physicalName(id).toLowerCase() });

    const members = new Map<string, string>();
    const standalone: string[] = [];
    for (const id of instances) {
      const clusterRef = template.properties(id).DBClusterIdentifier;
      const cluster = clusterRef === undefined ? undefined : template.logicalIdOf(String(clusterRef));
      if (cluster !== undefined) members.set(id, cluster);
      else standalone.push(id);
    }
    for (const id of [...clusters, ...standalone]) {
      if (!isPostgres(template, id)) {
        context.notEmulated(`database ${template.physicalName(id)} (${String(template.properties(id).Engine)}): only PostgreSQL runs locally`);
        continue;
      }
      await this.startDatabase(context, id);
    }
    for (const [instance, cluster] of members) {
      const database = this.databases.get(cluster);
      if (database === undefined) continue;
      this.endpoints.set(instance, database);
      template.bind(instance, { attributes: { 'Endpoint.Address': LOCAL_HOST, 'Endpoint.Port': String(database.server.port) } });
    }
    for (const id of proxies) this.connectProxy(context, id);
    for (const [id] of template.resources(PROXY_ENDPOINT)) {
      const proxy = template.logicalIdOf(String(template.properties(id).DBProxyName));
      const database = proxy === undefined ? undefined : this.endpoints.get(proxy);
      if (database === undefined) continue;
      this.endpoints.set(id, database);
      template.bind(id, { attributes: { Endpoint: LOCAL_HOST } });
    }
    if (this.databases.size > 0) {
      context.report('PostgreSQL: PGlite is one session; its front lets one transaction through at a time (others wait for COMMIT or ROLLBACK), '
        + 'so functions keep their own connections and run concurrently');
    }
  }

  private async startDatabase(context: RunContext, logicalId: string): Promise<void> {
    const { template } = context;
    const props = template.properties(logicalId);
    const server = await startLocalPostgres();
    context.onStop(() => server.stop());
    const name = template.ref(logicalId);
    const engine = `${String(props.Engine)}${props.EngineVersion !== undefined ? ` ${String(props.EngineVersion)}` : ''}`;
    const database: LocalDatabase = { logicalId, name, engine, declaredPort: Number(props.Port ?? POSTGRES_PORT), server };
    this.databases.set(logicalId, database);
    this.endpoints.set(logicalId, database);
    const port = String(server.port);
    template.bind(logicalId, {
      attributes: template.resource(logicalId).Type === CLUSTER
        ? { 'Endpoint.Address': LOCAL_HOST, 'Endpoint.Port': port, 'ReadEndpoint.Address': LOCAL_HOST }
        : { 'Endpoint.Address': LOCAL_HOST, 'Endpoint.Port': port },
    });
    const version = (await server.engine.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
    context.report(`database ${name} (${engine}): PGlite ${PGLITE_VERSION} (PostgreSQL ${version}) at ${LOCAL_HOST}:${port}`);
    const databaseName = props.DatabaseName ?? props.DBName;
    const deployedMajor = String(props.EngineVersion ?? '').split('.')[0];
    const versionNote = deployedMajor !== '' && deployedMajor !== version.split('.')[0] ? `it runs PostgreSQL ${version}, not ${String(props.EngineVersion)}; ` : '';
    context.notEmulated(`database ${name}: ${versionNote}PGlite is one session as superuser postgres on database postgres for every connection, so users, `
      + `roles' privileges, passwords${databaseName !== undefined ? `, the database name ${String(databaseName)}` : ''} and startup parameters `
      + '(statement_timeout, lock_timeout) have no effect, and advisory locks do not exclude anyone; data is in memory and gone at stop; '
      + 'no backups, failover, readers, scaling, parameter groups, monitoring or log exports');
  }

  private connectProxy(context: RunContext, logicalId: string): void {
    const { template } = context;
    const name = template.ref(logicalId);
    if (!isPostgres(template, logicalId)) {
      context.notEmulated(`RDS Proxy ${name} (${String(template.properties(logicalId).EngineFamily)}): only PostgreSQL runs locally`);
      return;
    }
    const targets = template.resources(PROXY_TARGET_GROUP).map(([id]) => template.properties(id)).filter((p) => p.DBProxyName === name)
      .flatMap((p) => [...(p.DBClusterIdentifiers ?? []) as unknown[], ...(p.DBInstanceIdentifiers ?? []) as unknown[]]);
    const targetIds = targets.map((t) => template.logicalIdOf(String(t))).filter((id): id is string => id !== undefined);
    const database = targetIds.map((id) => this.endpoints.get(id)).find((d) => d !== undefined)
      ?? (targetIds.length === 0 && this.databases.size === 1 ? [...this.databases.values()][0] : undefined);
    if (database === undefined) {
      context.notEmulated(`RDS Proxy ${name}: its target is not a database that runs locally`);
      return;
    }
    this.endpoints.set(logicalId, database);
    template.bind(logicalId, { attributes: { Endpoint: LOCAL_HOST } });
    const props = template.properties(logicalId);
    const iamAuth = ((props.Auth ?? []) as Array<{ IAMAuth?: string }>).some((a) => a.IAMAuth === 'REQUIRED');
    context.report(`RDS Proxy ${name} -> database ${database.name} at ${LOCAL_HOST}:${database.server.port}`);
    context.notEmulated(`RDS Proxy ${name}: ${iamAuth ? 'IAM authentication (no password is asked for, so no token is checked), ' : ''}`
      + `${props.RequireTLS === true ? 'TLS (plain TCP on 127.0.0.1: the functions\' TLS setting is turned off), ' : ''}`
      + 'its secrets, connection pooling and pinning, borrow and idle-client timeouts');
  }

  public environment(functionLogicalId: string, environment: Record<string, string>): Record<string, string> {
    const context = this.context;
    if (context === undefined || this.endpoints.size === 0) return environment;
    const { template } = context;
    const declared = ((template.resource(functionLogicalId).Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {});
    const databases = new Set<LocalDatabase>();
    for (const value of Object.values(declared)) {
      for (const [logicalId, attribute] of attributeReferences(value)) {
        const database = this.endpoints.get(logicalId);
        const type = template.template.Resources[logicalId]?.Type ?? '';
        if (database !== undefined && (HOST_ATTRIBUTES[type] ?? []).includes(attribute)) databases.add(database);
      }
    }
    if (databases.size === 0) return environment;
    const name = template.physicalName(functionLogicalId);
    const rewritten = { ...environment };
    const [database] = databases;
    if (databases.size === 1 && database !== undefined) {
      // A port written as a literal (the construct knows PostgreSQL's port) is the local one here.
      for (const [key, value] of Object.entries(rewritten)) {
        if (/PORT/i.test(key) && value === String(database.declaredPort)) rewritten[key] = String(database.server.port);
      }
    } else {
      context.notEmulated(`function ${name} names several databases: its port variables are left as they are`);
    }
    for (const [key, plain] of Object.entries(TLS_VARIABLES)) {
      if (rewritten[key] !== undefined && rewritten[key] !== plain) rewritten[key] = plain;
    }
    if (rewritten[SECRETS_ENDPOINT_VARIABLE] === undefined) {
      for (const key of SECRET_VARIABLES_WITHOUT_ENGINE) {
        if (rewritten[key] === undefined) continue;
        const secret = template.logicalIdOf(rewritten[key]);
        delete rewritten[key];
        context.notEmulated(`function ${name}: ${key} (secret ${secret ?? 'outside the stack'}) is left out, as there is no local Secrets Manager: `
          + 'the step that needs it (the API\'s database user) is skipped');
      }
    }
    return rewritten;
  }

  public async connect(context: RunContext, functions: RunningFunctions): Promise<void> {
    const { template } = context;
    for (const type of MIGRATION_RESOURCE_TYPES) {
      for (const [logicalId] of template.resources(type)) await this.runCreate(context, functions, logicalId);
    }
  }

  /**
   * Runs a custom resource's Create through its onEvent function: CDK's provider framework
   * function (the service token) invokes the function in its `USER_ON_EVENT_FUNCTION_ARN` with
   * the CloudFormation event, its ResponseURL hidden, and takes the result.
   */
  private async runCreate(context: RunContext, functions: RunningFunctions, logicalId: string): Promise<void> {
    const { template } = context;
    const resource = template.resource(logicalId);
    const properties = template.properties(logicalId);
    const serviceToken = String(properties.ServiceToken ?? '');
    const framework = template.logicalIdOf(serviceToken);
    const frameworkVariables = framework === undefined ? {}
      : ((template.properties(framework).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    const onEvent = frameworkVariables.USER_ON_EVENT_FUNCTION_ARN;
    const failure = (reason: string): Error => new Error(`${resource.Type} ${logicalId} failed at start-up: ${reason}`);
    if (typeof onEvent !== 'string') {
      throw failure(`its service token ${serviceToken} is not CDK's provider framework (custom-resources.Provider), which the local runner needs to run it`);
    }
    if (frameworkVariables.USER_IS_COMPLETE_FUNCTION_ARN !== undefined) {
      throw failure('it has an isComplete handler, which the local runner does not poll');
    }
    if (!functions.has(onEvent)) throw failure(`its function ${onEvent} does not run locally`);
    const event = {
      RequestType: 'Create',
      ServiceToken: serviceToken,
      ResponseURL: '...',
      StackId: template.resolve({ Ref: 'AWS::StackId' }),
      RequestId: randomUUID(),
      LogicalResourceId: logicalId,
      ResourceType: resource.Type,
      ResourceProperties: properties,
    };
    const outcome = await functions.invoke(onEvent, event);
    if (!outcome.ok) throw failure(`${onEvent} answered ${outcome.errorType}: ${outcome.errorMessage}`);
    const result = (outcome.payload ?? {}) as { PhysicalResourceId?: unknown; Data?: Record<string, unknown> };
    template.bind(logicalId, { ref: typeof result.PhysicalResourceId === 'string' ? result.PhysicalResourceId : undefined, attributes: result.Data });
    context.report(`${resource.Type} ${logicalId}: Create ran (${onEvent.split(':').pop()})${result.Data ? ` ${JSON.stringify(result.Data)}` : ''}`);
  }
}
