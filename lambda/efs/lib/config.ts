/**
 * Configuration of the EFS file API, from environment variables, validated at cold start.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | MOUNT_PATH | (required) | absolute path where the access point is mounted; files live under it |
 * | MAX_FILE_BYTES | 4194304 | 1..4194304 (a 4 MiB file is ~5.6 MB as base64, within Lambda's 6 MB payload) |
 * | REQUIRE_IF_MATCH, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE | see `../../shared/collection-config.ts` | |
 */
import { isAbsolute, normalize } from 'node:path';
import { readCollectionSettings, type CollectionSettings } from '../../shared/collection-config';
import { EnvReader, quoteValue } from '../../shared/config';

/** Lambda's synchronous payload limit is 6 MB; base64 makes 4 MiB of bytes about 5.6 MB. */
export const MAX_FILE_BYTES_LIMIT = 4_194_304;

export interface FilesConfig extends CollectionSettings {
  /** Normalized absolute path, without a trailing slash. */
  readonly mountPath: string;
  readonly maxFileBytes: number;
}

/** Reads and validates the configuration; throws one `ConfigError` listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): FilesConfig {
  const reader = new EnvReader(env);
  const rawMountPath = reader.requiredString('MOUNT_PATH');
  let mountPath = rawMountPath;
  if (rawMountPath !== '') {
    if (!isAbsolute(rawMountPath) || /[\x00-\x1f\x7f]/.test(rawMountPath)) {
      reader.problem('MOUNT_PATH', `must be an absolute path, got ${quoteValue(rawMountPath)}`);
    } else {
      mountPath = normalize(rawMountPath).replace(/(.)\/+$/, '$1');
    }
  }
  const maxFileBytes = reader.integerInRange('MAX_FILE_BYTES', MAX_FILE_BYTES_LIMIT, 1, MAX_FILE_BYTES_LIMIT);
  const collection = readCollectionSettings(reader);
  reader.done();
  return { mountPath, maxFileBytes, ...collection };
}
