/**
 * EFS file API, property-based (fast-check): hostile paths, headers and bodies never produce a
 * 5xx or a throw, never reach outside the root (the sibling directory with the secret stays
 * byte-for-byte the same, and nothing new appears next to the root), and paths that break a rule
 * or go through a link are 400s. Valid paths and arbitrary bytes round-trip exactly.
 * The oracles are independent of the handler's own checks.
 */
import { readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { SECRET, createTempMount, fileEvent, leftoverInternalFiles, listEvent, loadEfsFiles, responseBytes, treeSnapshot, type TempMount } from '../helpers/efs';
import { anyString } from '../helpers/hostile-input';
import type { Invoke } from '../helpers/load-handler';

const RUNS = { numRuns: 300 } as const;
/** Each round trip makes five requests with fsyncs: fewer runs keep the file fast. */
const ROUND_TRIP_RUNS = { numRuns: 100 } as const;
if (process.env.FC_DEBUG) fc.configureGlobal({ endOnFailure: true });

const LINKS = ['link-dir', 'link-file', 'abs-link', 'meta-alias', 'loop'] as const;

let mount: TempMount;
let invoke: Invoke;
let outsideSnapshot: Record<string, string>;
let linkSnapshot: Record<string, string>;

beforeAll(async () => {
  mount = await createTempMount();
  ({ invoke } = loadEfsFiles({ MOUNT_PATH: mount.root, MAX_FILE_BYTES: '4096', REQUIRE_IF_MATCH: 'false', MAX_PAGE_SIZE: '1000' }));
  await invoke(fileEvent('PUT', 'real/inside.txt', { body: 'inside' }));
  await symlink('../outside', join(mount.root, 'link-dir'));
  await symlink('../outside/secret.txt', join(mount.root, 'link-file'));
  await symlink(mount.outside, join(mount.root, 'abs-link'));
  await symlink('.efs-meta', join(mount.root, 'meta-alias'));
  await symlink('loop', join(mount.root, 'loop'));
  outsideSnapshot = await treeSnapshot(mount.outside);
  linkSnapshot = await linksOf(mount.root);
});

afterAll(async () => {
  await mount.cleanup();
});

async function linksOf(root: string): Promise<Record<string, string>> {
  const tree = await treeSnapshot(root);
  return Object.fromEntries(Object.entries(tree).filter(([, v]) => v.startsWith('link')));
}

/** Nothing outside the root changed, nothing appeared beside it, the links are intact, no secret leaked. */
async function expectContained(response: APIGatewayProxyResult): Promise<void> {
  expect(await treeSnapshot(mount.outside)).toEqual(outsideSnapshot);
  expect((await readdir(mount.base)).sort()).toEqual(['outside', 'root']);
  expect(await linksOf(mount.root)).toEqual(linkSnapshot);
  expect(response.body).not.toContain(SECRET);
  expect(response.body).not.toContain(Buffer.from(SECRET).toString('base64'));
}

function expectClientErrorShape(response: APIGatewayProxyResult): void {
  const body = jsonBody<{ error: unknown; message: unknown; requestId: unknown }>(response);
  expect(typeof body.error).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(typeof body.requestId).toBe('string');
  expect(responseHeader(response, 'x-content-type-options')).toBe('nosniff');
}

/** Independent oracle: a path no file API may accept. */
function lexicallyInvalid(path: string): boolean {
  const segments = path.split('/');
  return path === ''
    || path.startsWith('/')
    || /[\u0000-\u001f\\]/.test(path)
    || segments.some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase().startsWith('.efs-'));
}

const hostileSegment = fc.oneof(
  fc.constantFrom('..', '.', '', ...LINKS, '.efs-meta', '.efs-locks', '.efs-tmp-1', 'outside', 'secret.txt', 'root', 'real', 'inside.txt',
    '\u0000', 'a\u0000b', '\\', '..\\..', '%2e%2e', '😀', 'é', ' ', '\ud800', 'x'.repeat(256), '\u007f', '\n'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const hostilePath = fc.oneof(
  fc.tuple(fc.boolean(), fc.array(hostileSegment, { minLength: 1, maxLength: 6 }), fc.boolean())
    .map(([leading, segments, trailing]) => `${leading ? '/' : ''}${segments.join('/')}${trailing ? '/' : ''}`),
  anyString,
  fc.string({ minLength: 1000, maxLength: 1100 }),
  fc.constantFrom('../outside/secret.txt', '/etc/passwd', 'link-dir/secret.txt', 'link-file', 'real/../../outside/secret.txt'),
);

const conditionHeader = fc.oneof(fc.constantFrom('*', '"x"', 'W/"x"', '"a", "b"', '', ',', '"unterminated'), anyString);

const hostileHeaders = fc.record({
  'If-Match': conditionHeader,
  'If-None-Match': conditionHeader,
  'Content-Type': fc.oneof(fc.constantFrom('text/plain', 'application/json; charset=utf-8', 'text', '*/*'), anyString),
}, { requiredKeys: [] });

const hostileBody = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true })),
  fc.uint8Array({ minLength: 4097, maxLength: 5000 }).map((bytes) => ({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true })),
  anyString.map((body) => ({ body, isBase64Encoded: true })), // mostly invalid base64
  anyString.map((body) => ({ body, isBase64Encoded: false })),
  fc.constant({ body: null, isBase64Encoded: false }),
);

const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'get', '');

test('hostile file requests: never a 5xx or a throw, never outside the root, rule breakers and links are 400s', async () => {
  await fc.assert(fc.asyncProperty(method, hostilePath, hostileHeaders, hostileBody, async (m, path, headers, body) => {
    // Act
    const event: APIGatewayProxyEvent = { ...fileEvent(m, path, { headers }), ...body };
    const response = await invoke(event);

    // Assess
    expect(response.statusCode).toBeGreaterThanOrEqual(200);
    expect(response.statusCode).toBeLessThan(500);
    if (response.statusCode >= 400 && m.toUpperCase() !== 'HEAD') expectClientErrorShape(response);
    const fileMethod = ['GET', 'HEAD', 'PUT', 'DELETE'].includes(m.toUpperCase());
    if (fileMethod && lexicallyInvalid(path)) expect(response.statusCode).toBe(400);
    // Through a link: 400, unless the body was refused first for its size (checked before any file system access).
    const first = path.split('/')[0];
    if (fileMethod && !lexicallyInvalid(path) && (LINKS as readonly string[]).includes(first)) expect([400, 413]).toContain(response.statusCode);
    await expectContained(response);
  }), RUNS);
  expect(await leftoverInternalFiles(mount.root)).toEqual([]);
});

test('hostile listing parameters: never a 5xx, never a link, an internal file or anything outside', async () => {
  const query = fc.record({
    prefix: fc.oneof(hostilePath, fc.constantFrom('link-dir/', 'real/', '.efs-meta/', '', '/')),
    limit: fc.oneof(fc.constantFrom('1', '1000', '1001', '0', '-1', '1e3', ''), anyString),
    cursor: fc.oneof(anyString, fc.constantFrom('eyJ2IjoxLCJhZnRlciI6Ii4uL3gifQ', 'eyJ2IjoxLCJhZnRlciI6ImEifQ')),
  }, { requiredKeys: [] });

  await fc.assert(fc.asyncProperty(query, async (q) => {
    const response = await invoke(listEvent(q as Record<string, string>));

    expect(response.statusCode).toBeLessThan(500);
    if (response.statusCode === 200) {
      for (const file of jsonBody<{ files: Array<{ path: string }> }>(response).files) {
        expect(lexicallyInvalid(file.path)).toBe(false);
        expect((LINKS as readonly string[]).includes(file.path.split('/')[0])).toBe(false);
      }
    } else {
      expect(response.statusCode).toBe(400);
      expectClientErrorShape(response);
    }
    await expectContained(response);
  }), RUNS);
});

/** Segments any file API must accept: 1..255 UTF-8 bytes, no `/`, `\` or controls, not `.`/`..`, not reserved. */
const validSegment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((s) => !/[\u0000-\u001f\u007f-\u009f/\\]/.test(s) && s !== '.' && s !== '..' && !s.toLowerCase().startsWith('.efs-')
    && Buffer.byteLength(s) <= 255);
const validContentType = fc.constantFrom('text/plain', 'application/octet-stream', 'image/png', 'text/csv; charset=utf-8', 'application/vnd.a+json');

test('valid paths with arbitrary bytes round-trip through PUT, GET, the listing and DELETE', async () => {
  await fc.assert(fc.asyncProperty(fc.array(validSegment, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 4096 }), validContentType,
    async (segments, bytes, contentType) => {
      // Prepare
      const path = ['v', ...segments].join('/');
      const body = Buffer.from(bytes);

      // Act
      const put = await invoke(fileEvent('PUT', path, { body, contentType }));
      const get = await invoke(fileEvent('GET', path));
      const listed = await invoke(listEvent({ prefix: path, limit: '1' }));
      const del = await invoke(fileEvent('DELETE', path));
      const gone = await invoke(fileEvent('GET', path));

      // Assess
      expect(put.statusCode).toBe(201);
      expect(responseBytes(get).equals(body)).toBe(true);
      expect(responseHeader(get, 'content-type')).toBe(contentType);
      const { files } = jsonBody<{ files: Array<{ path: string; size: number }> }>(listed);
      expect(files).toEqual([expect.objectContaining({ path, size: body.length, contentType })]);
      expect(del.statusCode).toBe(204);
      expect(gone.statusCode).toBe(404);
    }), ROUND_TRIP_RUNS);
  expect((await readdir(mount.root)).filter((name) => name === 'v')).toEqual([]);
});
