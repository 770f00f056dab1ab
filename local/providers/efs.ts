/**
 * EFS for the template's functions: each file system is a local folder, and an access point is
 * the folder of its root directory inside it (created as EFS creates it), so functions that mount
 * the same access point share files, as they do on EFS. A function with `FileSystemConfigs` sees
 * its mount path (`LocalMountPath`, e.g. `/mnt/data`) nowhere locally: every environment value
 * equal to it or under it is mapped to the folder instead (the library's file handler reads
 * `MOUNT_PATH`). A path the function builds from a literal `/mnt/...` in its code is not mapped.
 *
 * The folders are under a fresh temporary directory, removed at stop, unless a root is given
 * (then they are kept, and found again by the next run).
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provider, RunContext } from '../provider';

const ACCESS_POINT = 'AWS::EFS::AccessPoint';
const FILE_SYSTEM = 'AWS::EFS::FileSystem';

export interface EfsProviderOptions {
  /** The folder that holds the file systems' folders, kept after stop. @default - a fresh temporary directory, removed at stop */
  readonly root?: string;
}

/** A function's mount: where it sees the file system, and the local folder that stands in for it. */
export interface LocalMount {
  readonly mountPath: string;
  readonly folder: string;
  /** The access point's logical id (or the file system's, for a mount without one). */
  readonly source: string;
}

export class EfsProvider implements Provider {
  public readonly name = 'EFS';
  /** Each function's mounts, by function logical id. */
  public readonly mounts = new Map<string, LocalMount[]>();
  private root: string | undefined;

  constructor(private readonly options: EfsProviderOptions = {}) {}

  public prepare(context: RunContext): Promise<void> {
    const { template } = context;
    const folders = new Map<string, string>();
    for (const [functionId] of template.resources('AWS::Lambda::Function')) {
      const configs = (template.properties(functionId).FileSystemConfigs ?? []) as Array<{ Arn?: unknown; LocalMountPath?: unknown }>;
      for (const config of configs) {
        const arn = String(config.Arn ?? '');
        const mountPath = String(config.LocalMountPath ?? '').replace(/\/+$/, '');
        const source = template.logicalIdOf(arn);
        const functionName = template.physicalName(functionId);
        if (source === undefined || mountPath === '') {
          context.notEmulated(`function ${functionName}: its file system ${arn} is not one of the stack's access points, so ${mountPath || 'its mount'} is missing`);
          continue;
        }
        let folder = folders.get(source);
        if (folder === undefined) {
          folder = this.folderOf(context, source);
          folders.set(source, folder);
        }
        const mounts = this.mounts.get(functionId) ?? [];
        mounts.push({ mountPath, folder, source });
        this.mounts.set(functionId, mounts);
        context.report(`EFS      ${mountPath} of function ${functionName} -> ${folder}`);
      }
    }
    for (const [id] of template.resources(ACCESS_POINT)) {
      if (!folders.has(id)) continue;
      const props = template.properties(id);
      const user = props.PosixUser as { Uid?: unknown; Gid?: unknown } | undefined;
      const root = (props.RootDirectory as { Path?: unknown } | undefined)?.Path;
      context.notEmulated(`EFS access point ${id}: ${user ? `its POSIX user (${String(user.Uid)}:${String(user.Gid)}) is not applied: files belong to this user; ` : ''}`
        + `${root !== undefined ? `its root directory ${String(root)} is a plain folder, so a path leading out of it is not stopped as EFS stops it; ` : ''}`
        + 'the file system\'s policy, encryption, throughput, backups and mount targets are not emulated');
    }
    return Promise.resolve();
  }

  /** The folder of an access point (its root directory inside its file system's folder) or of a file system. */
  private folderOf(context: RunContext, source: string): string {
    const { template } = context;
    const resource = template.resource(source);
    let fileSystem = source;
    let rootPath = '/';
    let mode: number | undefined;
    if (resource.Type === ACCESS_POINT) {
      const props = template.properties(source);
      fileSystem = template.logicalIdOf(String(props.FileSystemId)) ?? String(props.FileSystemId);
      const rootDirectory = (props.RootDirectory ?? {}) as { Path?: unknown; CreationInfo?: { Permissions?: unknown } };
      rootPath = String(rootDirectory.Path ?? '/');
      const permissions = rootDirectory.CreationInfo?.Permissions;
      mode = permissions === undefined ? undefined : parseInt(String(permissions), 8);
    } else if (resource.Type !== FILE_SYSTEM) {
      throw new Error(`EFS mount ${source}: a ${resource.Type} is neither an access point nor a file system`);
    }
    const segments = rootPath.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.includes('..')) throw new Error(`EFS access point ${source}: its root directory ${rootPath} leaves the file system`);
    const folder = join(this.rootFolder(context), fileSystem, ...segments);
    // EFS creates a missing root directory with the access point's CreationInfo permissions.
    mkdirSync(folder, { recursive: true, ...(mode !== undefined && !Number.isNaN(mode) ? { mode } : {}) });
    return realpathSync(folder);
  }

  private rootFolder(context: RunContext): string {
    if (this.root !== undefined) return this.root;
    if (this.options.root !== undefined) {
      mkdirSync(this.options.root, { recursive: true });
      this.root = realpathSync(this.options.root);
    } else {
      // The real path: handlers that check for links (the file API does) see no /tmp -> /private/tmp.
      const root = realpathSync(mkdtempSync(join(tmpdir(), 'local-efs-')));
      this.root = root;
      context.onStop(() => Promise.resolve(rmSync(root, { recursive: true, force: true })));
    }
    return this.root;
  }

  public environment(functionLogicalId: string, environment: Record<string, string>): Record<string, string> {
    const mounts = this.mounts.get(functionLogicalId);
    if (mounts === undefined) return environment;
    const rewritten = { ...environment };
    for (const [key, value] of Object.entries(rewritten)) {
      for (const { mountPath, folder } of mounts) {
        if (value === mountPath || value.startsWith(`${mountPath}/`)) {
          rewritten[key] = folder + value.slice(mountPath.length);
          break;
        }
      }
    }
    return rewritten;
  }
}
