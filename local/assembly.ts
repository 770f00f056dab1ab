/**
 * Reads a stack from a cloud assembly (`cdk.out`): its template and where each file asset's
 * contents are. The runner needs nothing else, so it runs any app's stacks, not only our examples.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Parameters?: Record<string, { Default?: unknown; Type?: string }>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

export interface AssemblyStack {
  /** The artifact id, which `cdk deploy` and this runner take on the command line. */
  readonly id: string;
  /** The CloudFormation stack name. */
  readonly stackName: string;
  readonly template: CfnTemplate;
  readonly assemblyDir: string;
  /** The folder (or file) holding a file asset's contents, by the S3 object key it is published under. */
  assetPathOfObjectKey(objectKey: string): string | undefined;
}

interface ManifestArtifact {
  readonly type: string;
  readonly displayName?: string;
  readonly dependencies?: string[];
  readonly properties?: { templateFile?: string; stackName?: string; file?: string };
}

interface AssetManifest {
  readonly files?: Record<string, {
    readonly source: { readonly path?: string };
    readonly destinations: Record<string, { readonly objectKey: string }>;
  }>;
}

export class AssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssemblyError';
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The stack artifacts of an assembly, by artifact id. */
export function listStacks(assemblyDir: string): string[] {
  const manifest = readManifest(assemblyDir);
  return Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack').map(([id]) => id);
}

function readManifest(assemblyDir: string): { artifacts?: Record<string, ManifestArtifact> } {
  const path = join(assemblyDir, 'manifest.json');
  if (!existsSync(path)) throw new AssemblyError(`${assemblyDir} is not a cloud assembly (no manifest.json): run \`npx cdk synth\` first, or pass --assembly`);
  return readJson(path);
}

/** Reads stack `id` (artifact id, display name or stack name) of the assembly in `assemblyDir`. */
export function readStack(assemblyDirInput: string, id: string): AssemblyStack {
  const assemblyDir = resolve(assemblyDirInput);
  const artifacts = readManifest(assemblyDir).artifacts ?? {};
  const stacks = Object.entries(artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const found = stacks.find(([artifactId, a]) => artifactId === id || a.displayName === id || a.properties?.stackName === id);
  if (found === undefined) {
    const known = stacks.map(([artifactId]) => artifactId).join(', ') || 'none';
    throw new AssemblyError(`the assembly in ${assemblyDir} has no stack ${id}; its stacks: ${known}`);
  }
  const [artifactId, artifact] = found;
  const templateFile = artifact.properties?.templateFile;
  if (templateFile === undefined) throw new AssemblyError(`stack ${artifactId} names no template file`);
  const template = readJson<CfnTemplate>(join(assemblyDir, templateFile));

  const assetPaths = new Map<string, string>();
  for (const dependency of artifact.dependencies ?? []) {
    const file = artifacts[dependency]?.type === 'cdk:asset-manifest' ? artifacts[dependency]?.properties?.file : undefined;
    if (file === undefined) continue;
    for (const asset of Object.values(readJson<AssetManifest>(join(assemblyDir, file)).files ?? {})) {
      if (asset.source.path === undefined) continue;
      for (const destination of Object.values(asset.destinations)) assetPaths.set(destination.objectKey, join(assemblyDir, asset.source.path));
    }
  }
  return {
    id: artifactId,
    stackName: artifact.properties?.stackName ?? artifactId,
    template,
    assemblyDir,
    assetPathOfObjectKey: (objectKey) => assetPaths.get(objectKey),
  };
}
