/**
 * EFS file API: configuration validated at cold start (one error naming every bad variable).
 */
import { ConfigError } from '../../lambda/shared/config';
import { loadEfsFiles } from '../helpers/efs';
import type { Env } from '../helpers/load-handler';

function coldStartError(env: Env): Error {
  try {
    loadEfsFiles(env);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the cold start to fail');
}

test('a minimal configuration cold-starts (the mount need not exist yet)', () => {
  expect(typeof loadEfsFiles({ MOUNT_PATH: '/mnt/not-mounted-yet' }).handler).toBe('function');
});

test('fails when MOUNT_PATH is missing', () => {
  const err = coldStartError({});

  expect(err.name).toBe('ConfigError');
  expect(err.message).toBe('Invalid configuration: MOUNT_PATH is required');
});

test('fails with one error listing every bad variable and the value given', () => {
  const err = coldStartError({
    MOUNT_PATH: 'mnt/data',
    MAX_FILE_BYTES: '4194305',
    DEFAULT_PAGE_SIZE: 'many',
    MAX_PAGE_SIZE: '0',
    REQUIRE_IF_MATCH: 'yes',
  });

  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe('ConfigError');
  const problems = (err as ConfigError).problems;
  expect(problems).toEqual([
    'MOUNT_PATH must be an absolute path, got "mnt/data"',
    'MAX_FILE_BYTES must be an integer in 1..4194304, got "4194305"',
    'REQUIRE_IF_MATCH must be true or false, got "yes"',
    'MAX_PAGE_SIZE must be an integer in 1..1000, got "0"',
    'DEFAULT_PAGE_SIZE must be an integer in 1..1000, got "many"',
  ]);
  for (const problem of problems) expect(err.message).toContain(problem);
});

test.each([
  ['MOUNT_PATH', './data', /MOUNT_PATH must be an absolute path/],
  ['MOUNT_PATH', '/mnt/da\u0000ta', /MOUNT_PATH must be an absolute path/],
  ['MAX_FILE_BYTES', '0', /MAX_FILE_BYTES must be an integer in 1\.\.4194304, got "0"/],
  ['MAX_FILE_BYTES', '1.5', /MAX_FILE_BYTES/],
  ['MAX_PAGE_SIZE', '1001', /MAX_PAGE_SIZE must be an integer in 1\.\.1000, got "1001"/],
  ['DEFAULT_PAGE_SIZE', '-1', /DEFAULT_PAGE_SIZE/],
  ['REQUIRE_IF_MATCH', 'TRUE', /REQUIRE_IF_MATCH must be true or false, got "TRUE"/],
])('fails when %s is %j', (name, value, message) => {
  expect(() => loadEfsFiles({ MOUNT_PATH: '/mnt/data', [name]: value })).toThrow(message);
});

test('fails when DEFAULT_PAGE_SIZE exceeds MAX_PAGE_SIZE', () => {
  expect(() => loadEfsFiles({ MOUNT_PATH: '/mnt/data', DEFAULT_PAGE_SIZE: '50', MAX_PAGE_SIZE: '10' })).toThrow(
    'DEFAULT_PAGE_SIZE must not exceed MAX_PAGE_SIZE (10), got "50"',
  );
});

test.each<[Env, string]>([
  [{ MAX_PAGE_SIZE: '10' }, 'DEFAULT_PAGE_SIZE follows a MAX_PAGE_SIZE below 25'],
  [{ MAX_FILE_BYTES: '1', DEFAULT_PAGE_SIZE: '1000', MAX_PAGE_SIZE: '1000', REQUIRE_IF_MATCH: 'true' }, 'the limits of every range'],
  [{ MOUNT_PATH: '/mnt/data/' }, 'a trailing slash on MOUNT_PATH'],
])('accepts %j (%s)', (env) => {
  expect(() => loadEfsFiles({ MOUNT_PATH: '/mnt/data', ...env })).not.toThrow();
});
