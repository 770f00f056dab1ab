import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { addExampleStacks } from '../../examples';
import { cdkJsonContext } from '../examples/synth';

/** A CloudFormation template as synthesized: only the parts these tests read. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

/** One example stack as `cdk deploy` would deploy it. */
export interface DeployedStack {
  /** The pattern folder (`rest-api`, ...). */
  readonly pattern: string;
  /** 0: the examples as `cdk deploy` names them; 1: the second copy, every stack id suffixed. */
  readonly copy: number;
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** Bytes of the template file that the CDK CLI uploads to the bootstrap bucket. */
  readonly templateBytes: number;
  /** Where each S3 object key of the stack's file assets comes from in the cloud assembly. */
  readonly assetSources: ReadonlyMap<string, AssetSource>;
}

export interface AssetSource {
  /** Absolute path of the asset in the cloud assembly: a directory (zipped at publishing) or a file. */
  readonly path: string;
  readonly packaging: 'zip' | 'file';
}

export interface DeployedExamples {
  readonly directory: string;
  readonly stacks: readonly DeployedStack[];
  /** Deletes the cloud assembly (it holds a copy of every asset). */
  dispose(): void;
}

/** Suffix of the second copy's stack ids (and so stack names). */
export const COPY_SUFFIX = 'Copy';

/**
 * Synthesizes two copies of every example in one app, with the context that the CDK CLI adds to
 * the app of every `cdk synth`/`cdk deploy` on top of cdk.json: path metadata (`aws:cdk:path`),
 * asset metadata (`aws:asset:path`) and version reporting (the `CDKMetadata` resource). So each
 * template has the bytes and resources of the template that is deployed.
 */
export function synthDeployedExamples(): DeployedExamples {
  const app = new App({
    context: {
      ...cdkJsonContext(),
      [cxapi.PATH_METADATA_ENABLE_CONTEXT]: true,
      [cxapi.ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true,
      [cxapi.ANALYTICS_REPORTING_ENABLED_CONTEXT]: true,
    },
  });
  const copies = [addExampleStacks(app), addExampleStacks(app, { idSuffix: COPY_SUFFIX })];
  const assembly = app.synth();
  const stacks = copies.flatMap((copy, index) => Object.entries(copy).map(([pattern, stack]): DeployedStack => {
    const artifact = assembly.getStackArtifact(stack.artifactId);
    return {
      pattern,
      copy: index,
      stackName: artifact.stackName,
      template: artifact.template as CfnTemplate,
      templateBytes: statSync(artifact.templateFullPath).size,
      assetSources: assetSourcesOf(artifact, assembly.directory),
    };
  }));
  return { directory: assembly.directory, stacks, dispose: () => rmSync(assembly.directory, { recursive: true, force: true }) };
}

function assetSourcesOf(artifact: cxapi.CloudFormationStackArtifact, directory: string): Map<string, AssetSource> {
  const sources = new Map<string, AssetSource>();
  for (const manifest of artifact.dependencies.filter(cxapi.AssetManifestArtifact.isAssetManifestArtifact)) {
    for (const file of Object.values(manifest.contents.files ?? {})) {
      if (file.source.path === undefined) {
        continue; // built by a command at publishing: nothing on disk to measure (none in the examples)
      }
      for (const destination of Object.values(file.destinations)) {
        sources.set(destination.objectKey, {
          path: join(directory, file.source.path),
          packaging: file.source.packaging === 'zip' ? 'zip' : 'file',
        });
      }
    }
  }
  return sources;
}

/** The resource's construct path (`aws:cdk:path`), else its logical id, for messages. */
export function describeResource(stack: DeployedStack, logicalId: string): string {
  const path = stack.template.Resources[logicalId]?.Metadata?.['aws:cdk:path'];
  return `${stack.stackName} ${logicalId}${typeof path === 'string' ? ` (${path})` : ''}`;
}

/** Logical ids and resources of one type. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/**
 * Bytes that Lambda extracts from an asset: the sum of its files' sizes for a directory (the CDK
 * CLI zips it as it is), or the uncompressed sizes in the central directory of a `.zip` file.
 */
export function unzippedBytes(source: AssetSource): number {
  if (statSync(source.path).isDirectory()) {
    return directoryBytes(source.path);
  }
  if (source.path.endsWith('.zip')) {
    return zipUncompressedBytes(readFileSync(source.path), source.path);
  }
  return statSync(source.path).size;
}

function directoryBytes(directory: string): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    const stats = statSync(path); // follows a symbolic link, as zipping it would
    total += stats.isDirectory() ? directoryBytes(path) : stats.size;
  }
  return total;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;

/**
 * Sum of the uncompressed sizes of a zip archive's entries, read from its central directory.
 * ZIP64 archives (over 4 GiB or 65,535 entries) are refused rather than under-counted.
 */
export function zipUncompressedBytes(zip: Buffer, name: string): number {
  let end = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) {
      end = offset;
      break;
    }
  }
  if (end < 0) {
    throw new Error(`${name} is not a zip archive (no end of central directory)`);
  }
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  if (entries === 0xffff || offset === 0xffffffff) {
    throw new Error(`${name} is a ZIP64 archive: its size cannot be read here`);
  }
  let total = 0;
  for (let index = 0; index < entries; index++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_DIRECTORY_ENTRY) {
      throw new Error(`${name}: central directory entry ${index} is malformed`);
    }
    const size = zip.readUInt32LE(offset + 24);
    if (size === 0xffffffff) {
      throw new Error(`${name} is a ZIP64 archive: its size cannot be read here`);
    }
    total += size;
    offset += 46 + zip.readUInt16LE(offset + 28) + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return total;
}
