/**
 * The pre-built bundle `assets/efs/files/index.mjs` (what Lambda runs), imported in a fresh
 * `node` process as ESM against a temporary directory: catches bundling-only failures that tests
 * of the TypeScript sources cannot. Build it first with `npx projen bundle` (`npm test` does).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lambdaContext } from '../helpers/api-gateway-events';
import { createTempMount, fileEvent, listEvent, type TempMount } from '../helpers/efs';
import { builtBundle, invokeBundle } from '../helpers/fresh-node';

const BUNDLE = builtBundle('efs', 'files');

type ProxyResult = { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded?: boolean };

let mount: TempMount;

beforeAll(async () => {
  mount = await createTempMount();
});

afterAll(async () => {
  await mount.cleanup();
});

async function runBundle(env: Record<string, string>, events: unknown[]) {
  return invokeBundle<ProxyResult>(BUNDLE, events, { ...lambdaContext(), getRemainingTimeInMillis: undefined }, env);
}

test('the bundle serves PUT, GET and the listing against a directory', async () => {
  // Prepare
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const events = [
    fileEvent('PUT', 'bundle/all-bytes.bin', { body: bytes, contentType: 'application/x-test' }),
    fileEvent('GET', 'bundle/all-bytes.bin'),
    listEvent({ prefix: 'bundle/' }),
    fileEvent('GET', '../outside/secret.txt'),
  ];

  // Act
  const { results, error } = await runBundle({ MOUNT_PATH: mount.root }, events);

  // Assess
  expect(error).toBeUndefined();
  const [put, get, list, escape] = results!;
  expect(put.statusCode).toBe(201);
  expect(get.statusCode).toBe(200);
  expect(get.isBase64Encoded).toBe(true);
  expect(Buffer.from(get.body, 'base64').equals(bytes)).toBe(true);
  expect(get.headers['content-type']).toBe('application/x-test');
  expect(get.headers.etag).toBe(put.headers.etag);
  expect(JSON.parse(list.body)).toMatchObject({ files: [{ path: 'bundle/all-bytes.bin', size: 256 }] });
  expect(escape.statusCode).toBe(400);
  expect((await readFile(join(mount.root, 'bundle', 'all-bytes.bin'))).equals(bytes)).toBe(true);
});

test('the bundle fails its cold start with the configuration problems', async () => {
  const { error } = await runBundle({ MOUNT_PATH: 'relative', MAX_PAGE_SIZE: '0' }, []);

  expect(error).toBe('Invalid configuration: MOUNT_PATH must be an absolute path, got "relative"; MAX_PAGE_SIZE must be an integer in 1..1000, got "0"');
});
