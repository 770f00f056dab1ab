/**
 * EFS file API: the paginated recursive listing `GET /files?prefix=&limit=&cursor=`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jsonBody, responseHeader } from '../helpers/api-gateway-events';
import { createTempMount, fileEvent, listEvent, loadEfsFiles, lockFileOf, type TempMount } from '../helpers/efs';
import type { Env, Invoke } from '../helpers/load-handler';

interface Listed {
  readonly path: string;
  readonly size: number;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: string;
}
interface ListBody {
  readonly files: Listed[];
  readonly nextCursor?: string;
}

let mount: TempMount;

beforeEach(async () => {
  mount = await createTempMount();
});

afterEach(async () => {
  await mount.cleanup();
});

function load(env: Env = {}): Invoke {
  // Large pages and blind deletes keep these tests about listing; the defaults are config tests.
  return loadEfsFiles({ MOUNT_PATH: mount.root, DEFAULT_PAGE_SIZE: '100', MAX_PAGE_SIZE: '1000', REQUIRE_IF_MATCH: 'false', ...env }).invoke;
}

async function put(invoke: Invoke, path: string, body = path, contentType?: string): Promise<APIGatewayProxyResult> {
  const response = await invoke(fileEvent('PUT', path, { body, ...(contentType !== undefined ? { contentType } : {}) }));
  expect(response.statusCode).toBe(201);
  return response;
}

async function list(invoke: Invoke, query: Record<string, string> = {}): Promise<ListBody> {
  const response = await invoke(listEvent(query));
  expect(response.statusCode).toBe(200);
  return jsonBody<ListBody>(response);
}

/** Follows nextCursor to the end; returns every page. */
async function allPages(invoke: Invoke, query: Record<string, string>): Promise<ListBody[]> {
  const pages: ListBody[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(invoke, { ...query, ...(cursor !== undefined ? { cursor } : {}) });
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

/** The oracle for byte order: compare UTF-8 encodings. */
function byteSorted(paths: string[]): string[] {
  return [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

test('lists every file recursively with size, content type, ETag and last modified, as GET reports them', async () => {
  // Prepare
  const invoke = load();
  const uploaded = await put(invoke, 'docs/readme.md', '# hi', 'text/markdown');
  await put(invoke, 'top.txt', 'top');

  // Act
  const body = await list(invoke);

  // Assess
  expect(body).toEqual({
    files: [
      { path: 'docs/readme.md', size: 4, contentType: 'text/markdown', etag: expect.stringMatching(/^[0-9a-f]{32}$/), lastModified: expect.any(String) },
      { path: 'top.txt', size: 3, contentType: 'application/octet-stream', etag: expect.any(String), lastModified: expect.any(String) },
    ],
  });
  expect(`"${body.files[0].etag}"`).toBe(responseHeader(uploaded, 'etag'));
  const get = await invoke(fileEvent('GET', 'docs/readme.md'));
  expect(new Date(body.files[0].lastModified).toUTCString()).toBe(responseHeader(get, 'last-modified'));
});

test('sorts by the byte order of the UTF-8 paths, across directory levels', async () => {
  // Prepare: "a/x" sorts after "a-b" ("/" is 0x2F, "-" 0x2D); U+FF5E sorts before U+1F600 in
  // UTF-8 but after it in UTF-16; upper case before lower case.
  const invoke = load();
  const paths = ['a/x', 'a-b', 'a0', 'a', 'B', 'b/c/d', 'b/c-', 'b/c.', 'é', '\uff5e', '😀', 'z/😀/\uff5e'];
  for (const path of paths.filter((p) => p !== 'a')) await put(invoke, path);
  await put(invoke, 'a.', 'a.');

  // Act
  const listed = (await list(invoke)).files.map((f) => f.path);

  // Assess
  const expected = byteSorted([...paths.filter((p) => p !== 'a'), 'a.']);
  expect(listed).toEqual(expected);
  expect(listed.indexOf('\uff5e')).toBeLessThan(listed.indexOf('😀'));
  expect(listed.indexOf('a-b')).toBeLessThan(listed.indexOf('a/x'));
});

test.each([
  ['docs/', ['docs/a.txt', 'docs/sub/b.txt']],
  ['docs', ['docs/a.txt', 'docs/sub/b.txt', 'docs.txt', 'docsy/c']],
  ['docs/s', ['docs/sub/b.txt']],
  ['docs/sub/b.txt', ['docs/sub/b.txt']],
  ['nothing', []],
  ['', ['docs.txt', 'docs/a.txt', 'docs/sub/b.txt', 'docsy/c', 'other']],
])('prefix %j selects the paths that start with it', async (prefix, expected) => {
  const invoke = load();
  for (const path of ['docs/a.txt', 'docs/sub/b.txt', 'docs.txt', 'docsy/c', 'other']) await put(invoke, path);

  const listed = (await list(invoke, { prefix })).files.map((f) => f.path);

  expect(listed).toEqual(byteSorted(expected));
});

test('pages follow each other through the cursor without duplicates or gaps', async () => {
  // Prepare
  const invoke = load();
  const paths: string[] = [];
  for (let i = 0; i < 57; i++) paths.push(`d${i % 4}/${i % 3 === 0 ? 'deep/' : ''}f${i}.bin`);
  for (const path of paths) await put(invoke, path);

  // Act
  const pages = await allPages(invoke, { limit: '10' });

  // Assess
  expect(pages.map((p) => p.files.length)).toEqual([10, 10, 10, 10, 10, 7]);
  expect(pages.slice(0, -1).every((p) => typeof p.nextCursor === 'string')).toBe(true);
  expect(pages[pages.length - 1].nextCursor).toBeUndefined();
  expect(pages.flatMap((p) => p.files.map((f) => f.path))).toEqual(byteSorted(paths));
});

test('a page exactly at the end has no cursor', async () => {
  const invoke = load();
  for (const path of ['a', 'b', 'c', 'd']) await put(invoke, path);

  const pages = await allPages(invoke, { limit: '2' });

  expect(pages.map((p) => p.files.map((f) => f.path))).toEqual([['a', 'b'], ['c', 'd']]);
  expect(pages[1].nextCursor).toBeUndefined();
});

test('pagination with a prefix, and DEFAULT_PAGE_SIZE as the default limit', async () => {
  const invoke = load({ DEFAULT_PAGE_SIZE: '3', MAX_PAGE_SIZE: '5' });
  for (let i = 0; i < 8; i++) await put(invoke, `in/${i}`);
  for (let i = 0; i < 4; i++) await put(invoke, `out/${i}`);

  const pages = await allPages(invoke, { prefix: 'in/' });
  const tooMany = await invoke(listEvent({ limit: '6' }));

  expect(pages.map((p) => p.files.length)).toEqual([3, 3, 2]);
  expect(pages.flatMap((p) => p.files.map((f) => f.path))).toEqual(Array.from({ length: 8 }, (_, i) => `in/${i}`));
  expect(tooMany.statusCode).toBe(400);
});

test('changes between pages: deleted files are not repeated, files added after the cursor appear', async () => {
  const invoke = load();
  for (const path of ['a', 'b', 'c', 'd']) await put(invoke, path);

  const first = await list(invoke, { limit: '2' });
  await invoke(fileEvent('DELETE', 'b'));
  await invoke(fileEvent('DELETE', 'c'));
  await put(invoke, 'a2');
  await put(invoke, 'e');
  const second = await list(invoke, { limit: '10', cursor: first.nextCursor! });

  expect(first.files.map((f) => f.path)).toEqual(['a', 'b']);
  expect(second.files.map((f) => f.path)).toEqual(['d', 'e']);
});

test('internal files (metadata, locks, temp files), empty directories and unusable names never appear', async () => {
  // Prepare
  const invoke = load();
  await put(invoke, 'dir/visible');
  await writeFile(join(mount.root, 'dir', '.efs-tmp-leftover'), 'partial');
  await mkdir(join(mount.root, '.efs-locks'), { recursive: true });
  await writeFile(lockFileOf(mount.root, 'dir/visible'), '{}');
  await mkdir(join(mount.root, 'empty', 'deeper'), { recursive: true });
  await writeFile(join(mount.root, 'back\\slash'), 'x');
  await writeFile(join(mount.root, 'control\u0001char'), 'x');

  // Act
  const listed = await list(invoke);
  const internal = await list(invoke, { prefix: 'dir/' });

  // Assess
  expect(listed.files.map((f) => f.path)).toEqual(['dir/visible']);
  expect(internal.files.map((f) => f.path)).toEqual(['dir/visible']);
});

test('HEAD /files answers 200 without a body', async () => {
  const invoke = load();

  const head = await invoke(listEvent({}, 'HEAD'));

  expect(head.statusCode).toBe(200);
  expect(head.body).toBe('');
});

describe('bad parameters are 400', () => {
  test.each(['0', '-1', '1.5', 'ten', '1001', '', ' 5', '99999999'])('limit %j', async (limit) => {
    const invoke = load();

    const response = await invoke(listEvent({ limit }));

    expect(response.statusCode).toBe(400);
    expect(jsonBody(response)).toMatchObject({ error: 'BadRequest', message: 'limit must be an integer in 1..1000' });
  });

  test('limit up to MAX_PAGE_SIZE is accepted', async () => {
    const invoke = load();

    expect((await invoke(listEvent({ limit: '1000' }))).statusCode).toBe(200);
  });

  const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  test.each([
    ['not base64url', 'abc+/='],
    ['empty JSON', cursorOf({})],
    ['another version', cursorOf({ v: 2, after: 'a' })],
    ['an extra key', cursorOf({ v: 1, after: 'a', x: 1 })],
    ['a traversal', cursorOf({ v: 1, after: '../x' })],
    ['an absolute path', cursorOf({ v: 1, after: '/etc' })],
    ['a number', cursorOf({ v: 1, after: 5 })],
    ['not JSON', Buffer.from('{v:1').toString('base64url')],
    ['not UTF-8', Buffer.from([0xff, 0xfe]).toString('base64url')],
    ['non-canonical base64url', `${cursorOf({ v: 1, after: 'a' })}A`],
    ['too long', 'A'.repeat(9000)],
  ])('cursor that is %s', async (_name, cursor) => {
    const invoke = load();

    const response = await invoke(listEvent({ cursor }));

    expect(response.statusCode).toBe(400);
    expect(jsonBody(response)).toMatchObject({ error: 'BadRequest', message: 'invalid cursor' });
  });

  test.each([
    ['/abs', /^The prefix must be relative/],
    ['a/../b/', /\. or \.\. segments/],
    ['a//', /empty segments/],
    ['a\u0000', /control characters/],
    ['.efs-meta/', /reserved/],
  ])('prefix %j', async (prefix, message) => {
    const invoke = load();

    const response = await invoke(listEvent({ prefix }));

    expect(response.statusCode).toBe(400);
    expect(jsonBody(response)).toMatchObject({ error: 'BadRequest', message: expect.stringMatching(message) });
  });

  test('repeated parameters with different values', async () => {
    const invoke = load();

    const response = await invoke(listEvent({ limit: ['1', '2'] }));

    expect(response.statusCode).toBe(400);
    expect(jsonBody(response)).toMatchObject({ message: 'The query parameter limit must be given once' });
  });
});
