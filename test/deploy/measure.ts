import { CfnResource, DeployedStack, resourcesOfType, unzippedBytes } from './assembly';
import { policyCharacters, UnknownToken, UpperBoundResolver } from './upper-bounds';

/** One measured value of one resource; `unknownTokens` fell back to the generous default bound. */
export interface Measure {
  readonly logicalId: string;
  readonly value: number;
  readonly unknownTokens: readonly UnknownToken[];
  /** Why the value could not be measured; the check fails rather than guess low. */
  readonly error?: string;
}

function measured(logicalId: string, resolver: UpperBoundResolver, value: number): Measure {
  return { logicalId, value, unknownTokens: [...resolver.unknownTokens] };
}

/** Whether a `Roles` (or `RoleName`) entry refers to the role with this logical id. */
function refersTo(value: unknown, logicalId: string): boolean {
  return value !== null && typeof value === 'object' && (value as Record<string, unknown>).Ref === logicalId;
}

/**
 * Each IAM role's inline policies in aggregate: the role's `Policies` and every
 * `AWS::IAM::Policy` (or `AWS::IAM::RolePolicy`) of the template attached to it, as IAM counts
 * them (JSON without whitespace), tokens at their upper bound. Policy names are counted too,
 * which IAM may not do: an estimate can only be high.
 */
export function roleInlinePolicyCharacters(stack: DeployedStack): Measure[] {
  const { template } = stack;
  return resourcesOfType(template, 'AWS::IAM::Role').map(([roleId, role]) => {
    const resolver = new UpperBoundResolver(template);
    const inline = (role.Properties?.Policies ?? []) as { PolicyName: unknown; PolicyDocument: unknown }[];
    let total = 0;
    for (const policy of inline) {
      total += resolver.string(policy.PolicyName).length + policyCharacters(resolver, policy.PolicyDocument);
    }
    for (const [, policy] of Object.entries(template.Resources).filter(([, r]) => attachedTo(r, roleId))) {
      total += resolver.string(policy.Properties?.PolicyName).length + policyCharacters(resolver, policy.Properties?.PolicyDocument);
    }
    return measured(roleId, resolver, total);
  });
}

function attachedTo(resource: CfnResource, roleId: string): boolean {
  if (resource.Type === 'AWS::IAM::Policy') {
    return ((resource.Properties?.Roles ?? []) as unknown[]).some((entry) => refersTo(entry, roleId));
  }
  return resource.Type === 'AWS::IAM::RolePolicy' && refersTo(resource.Properties?.RoleName, roleId);
}

/** Each customer managed policy's document, as IAM counts it. */
export function managedPolicyCharacters(stack: DeployedStack): Measure[] {
  return resourcesOfType(stack.template, 'AWS::IAM::ManagedPolicy').map(([logicalId, policy]) => {
    const resolver = new UpperBoundResolver(stack.template);
    return measured(logicalId, resolver, policyCharacters(resolver, policy.Properties?.PolicyDocument));
  });
}

/**
 * Each function's environment variables: UTF-8 bytes of their JSON object (`{"KEY":"value",...}`),
 * tokens at their upper bound. That is the keys and values plus the JSON punctuation, which Lambda
 * counts ("Lambda function configuration exceeds 4096 byte limit"); it can only be high.
 */
export function environmentBytes(stack: DeployedStack): Measure[] {
  return resourcesOfType(stack.template, 'AWS::Lambda::Function').map(([logicalId, fn]) => {
    const resolver = new UpperBoundResolver(stack.template);
    const variables = (fn.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {};
    return measured(logicalId, resolver, Buffer.byteLength(JSON.stringify(resolver.document(variables)), 'utf8'));
  });
}

/** Each function's number of layers. */
export function layerCounts(stack: DeployedStack): Measure[] {
  return resourcesOfType(stack.template, 'AWS::Lambda::Function').map(([logicalId, fn]) => {
    const layers = fn.Properties?.Layers ?? [];
    return Array.isArray(layers)
      ? { logicalId, value: layers.length, unknownTokens: [] }
      : { logicalId, value: Number.NaN, unknownTokens: [], error: `Layers is ${JSON.stringify(layers)}, not a list` };
  });
}

/**
 * Each function's unzipped code plus its layers' unzipped content: the asset of the function's
 * code (and of each layer of the template it uses) in the cloud assembly, mapped by S3 object key
 * through the stack's asset manifest; inline `ZipFile` code counts its bytes.
 */
export function unzippedCodeBytes(stack: DeployedStack): Measure[] {
  return resourcesOfType(stack.template, 'AWS::Lambda::Function').map(([logicalId, fn]) => {
    const resolver = new UpperBoundResolver(stack.template);
    try {
      let total = codeBytes(stack, resolver, fn.Properties?.Code, `code of ${logicalId}`);
      for (const layer of (fn.Properties?.Layers ?? []) as unknown[]) {
        const layerId = (layer as { Ref?: unknown } | null)?.Ref;
        const layerResource = typeof layerId === 'string' ? stack.template.Resources[layerId] : undefined;
        if (layerResource?.Type !== 'AWS::Lambda::LayerVersion') {
          throw new Error(`layer ${JSON.stringify(layer)} is not a layer of this template: its size is unknown`);
        }
        total += codeBytes(stack, resolver, layerResource.Properties?.Content, `layer ${String(layerId)}`);
      }
      return measured(logicalId, resolver, total);
    } catch (error) {
      return { logicalId, value: Number.NaN, unknownTokens: [], error: (error as Error).message };
    }
  });
}

function codeBytes(stack: DeployedStack, resolver: UpperBoundResolver, code: unknown, what: string): number {
  const { ZipFile: zipFile, S3Key: key } = (code ?? {}) as { ZipFile?: unknown; S3Key?: unknown };
  if (zipFile !== undefined) {
    return Buffer.byteLength(resolver.string(zipFile), 'utf8');
  }
  const source = typeof key === 'string' ? stack.assetSources.get(key) : undefined;
  if (source === undefined) {
    throw new Error(`${what} (${JSON.stringify(code)}) is not an asset of the cloud assembly: its size is unknown`);
  }
  return unzippedBytes(source);
}
