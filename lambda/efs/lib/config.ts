/**
 * Configuration of the EFS file API, from environment variables, validated at cold start.
 *
 * | variable | default | rule |
 * |---|---|---|
 * | MOUNT_PATH | (required) | absolute path where the access point is mounted; files live under it |
 * | MAX_FILE_BYTES | 4194304 | 1..4194304 (a 4 MiB file is ~5.6 MB as base64, within Lambda's 6 MB payload) |
 * | DEFAULT_PAGE_SIZE | 100 | 1..MAX_PAGE_SIZE |
 * | MAX_PAGE_SIZE | 1000 | 1..1000 |
 * | REQUIRE_IF_MATCH | `false` | `true`: replacing or deleting an existing file without If-Match -> 428 |
 */
import { isAbsolute, normalize } from 'node:path';
import { EnvReader, quoteValue } from '../../shared/config';

/** Lambda's synchronous payload limit is 6 MB; base64 makes 4 MiB of bytes about 5.6 MB. */
export const MAX_FILE_BYTES_LIMIT = 4_194_304;
export const MAX_PAGE_SIZE_LIMIT = 1000;

export interface FilesConfig {
  /** Normalized absolute path, without a trailing slash. */
  readonly mountPath: string;
  readonly maxFileBytes: number;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  readonly requireIfMatch: boolean;
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
  const maxPageSize = reader.integerInRange('MAX_PAGE_SIZE', MAX_PAGE_SIZE_LIMIT, 1, MAX_PAGE_SIZE_LIMIT);
  const defaultPageSize = reader.integerInRange('DEFAULT_PAGE_SIZE', Math.min(100, maxPageSize), 1, MAX_PAGE_SIZE_LIMIT);
  if (defaultPageSize > maxPageSize) {
    reader.problem('DEFAULT_PAGE_SIZE', `must not exceed MAX_PAGE_SIZE (${maxPageSize}), got "${defaultPageSize}"`);
  }
  const requireIfMatch = reader.booleanFlag('REQUIRE_IF_MATCH', false);
  reader.done();
  return { mountPath, maxFileBytes, defaultPageSize, maxPageSize, requireIfMatch };
}
