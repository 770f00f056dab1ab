/**
 * File paths as clients give them (`event.pathParameters.path`, already URL-decoded), checked
 * lexically before anything touches the file system. A valid path is relative, uses `/` between
 * 1..32 segments, and joined to the root it can only name something below the root (symbolic
 * links are checked separately, against the file system, in safe-fs.ts).
 * Every rule has its own 400 message.
 */
import { BadRequestError } from '../../shared/http-errors';

/** Every internal name (metadata and lock directories, temp files) starts with this; clients cannot use it. */
export const RESERVED_PREFIX = '.efs-';
export const METADATA_DIR = `${RESERVED_PREFIX}meta`;
export const LOCK_DIR = `${RESERVED_PREFIX}locks`;
export const TEMP_PREFIX = `${RESERVED_PREFIX}tmp-`;

export const MAX_PATH_BYTES = 1024;
/** NAME_MAX of Linux file systems, EFS included. */
export const MAX_SEGMENT_BYTES = 255;
export const MAX_SEGMENTS = 32;

const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The problem with `path` as a file path, or `undefined` when it is valid. */
export function filePathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'The file path must not be empty';
  if (LONE_SURROGATE.test(path)) return 'The file path must be well-formed Unicode';
  if (CONTROL.test(path)) return 'The file path must not contain NUL or other control characters';
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return `The file path must be at most ${MAX_PATH_BYTES} bytes (UTF-8)`;
  if (path.includes('\\')) return 'The file path must not contain backslashes';
  if (path.startsWith('/')) return 'The file path must be relative (no leading /)';
  if (path.endsWith('/')) return 'The file path must not end with / (it names a file, not a directory)';
  const segments = path.split('/');
  if (segments.length > MAX_SEGMENTS) return `The file path must have at most ${MAX_SEGMENTS} segments`;
  for (const segment of segments) {
    if (segment === '') return 'The file path must not contain empty segments (//)';
    if (segment === '.' || segment === '..') return 'The file path must not contain . or .. segments';
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) return `Each segment of the file path must be at most ${MAX_SEGMENT_BYTES} bytes (UTF-8)`;
    if (segment.toLowerCase().startsWith(RESERVED_PREFIX)) return `Path segments starting with ${RESERVED_PREFIX} are reserved`;
  }
  return undefined;
}

/** A valid file path, or a 400 naming the rule it breaks. */
export function parseFilePath(path: unknown): string {
  const problem = filePathProblem(path);
  if (problem !== undefined) throw new BadRequestError(problem);
  return path as string;
}

/**
 * The listing prefix: absent or empty means everything; otherwise the same rules as a file path,
 * except that it may end with `/` (only files in that directory) and may end mid-segment.
 */
export function parsePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const withoutSlash = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = withoutSlash.endsWith('/') ? 'The prefix must not contain empty segments (//)' : filePathProblem(withoutSlash);
  if (problem !== undefined) throw new BadRequestError(problem.replace('The file path', 'The prefix'));
  return prefix;
}

/** Byte order of the UTF-8 encodings (what S3 uses), which differs from UTF-16 order above U+FFFF. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
