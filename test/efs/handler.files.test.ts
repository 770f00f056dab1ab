/**
 * EFS file API: uploads, downloads, conditional requests, deletes and the error model, against a
 * real temporary directory standing in for the mount.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jsonBody, responseHeader } from '../helpers/api-gateway-events';
import {
  createTempMount,
  fileEvent,
  leftoverInternalFiles,
  listEvent,
  loadEfsFiles,
  responseBytes,
  sidecarOf,
  treeSnapshot,
  type TempMount,
} from '../helpers/efs';
import type { Env, Invoke } from '../helpers/load-handler';

const MAX_FILE_BYTES = 4_194_304;

let mount: TempMount;

beforeEach(async () => {
  mount = await createTempMount();
});

afterEach(async () => {
  await mount.cleanup();
});

function load(env: Env = {}): Invoke {
  // These tests replace and delete without If-Match; the If-Match tests turn it back on.
  return loadEfsFiles({ MOUNT_PATH: mount.root, REQUIRE_IF_MATCH: 'false', ...env }).invoke;
}

function etagOf(response: APIGatewayProxyResult): string {
  const etag = responseHeader(response, 'etag');
  expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  return etag!;
}

function expectError(response: APIGatewayProxyResult, statusCode: number, error: string, message?: RegExp): void {
  expect(response.statusCode).toBe(statusCode);
  const body = jsonBody<{ error: string; message: string; requestId: string }>(response);
  expect(body).toEqual({ error, message: expect.any(String), requestId: expect.any(String) });
  if (message) expect(body.message).toMatch(message);
  expect(responseHeader(response, 'x-content-type-options')).toBe('nosniff');
  expect(responseHeader(response, 'cache-control')).toBe('no-store');
}

describe('round trips', () => {
  test('a text file round-trips with its content type, ETag and length', async () => {
    // Prepare
    const invoke = load();

    // Act
    const put = await invoke(fileEvent('PUT', 'docs/readme.txt', { body: 'hello, files', contentType: 'text/plain; charset=utf-8' }));
    const get = await invoke(fileEvent('GET', 'docs/readme.txt'));

    // Assess
    expect(put.statusCode).toBe(201);
    const etag = etagOf(put);
    expect(jsonBody(put)).toEqual({
      path: 'docs/readme.txt', size: 12, contentType: 'text/plain; charset=utf-8', etag: etag.slice(1, -1), lastModified: expect.any(String),
    });
    expect(get.statusCode).toBe(200);
    expect(get.isBase64Encoded).toBe(true);
    expect(responseBytes(get).toString('utf8')).toBe('hello, files');
    expect(responseHeader(get, 'content-type')).toBe('text/plain; charset=utf-8');
    expect(responseHeader(get, 'content-length')).toBe('12');
    expect(responseHeader(get, 'etag')).toBe(etag);
    expect(responseHeader(get, 'x-content-type-options')).toBe('nosniff');
    expect(responseHeader(get, 'content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(new Date(responseHeader(get, 'last-modified')!).getTime()).not.toBeNaN();
    expect(await readFile(join(mount.root, 'docs/readme.txt'), 'utf8')).toBe('hello, files');
  });

  test('a binary file with all 256 byte values round-trips', async () => {
    const invoke = load();
    const bytes = Buffer.from(Array.from({ length: 1024 }, (_, i) => 255 - (i % 256)));

    const put = await invoke(fileEvent('PUT', 'bin/all-bytes.bin', { body: bytes, contentType: 'application/octet-stream' }));
    const get = await invoke(fileEvent('GET', 'bin/all-bytes.bin'));

    expect(put.statusCode).toBe(201);
    expect(responseBytes(get).equals(bytes)).toBe(true);
    expect((await readFile(join(mount.root, 'bin/all-bytes.bin'))).equals(bytes)).toBe(true);
  });

  test('an empty file round-trips, with an empty body or none at all', async () => {
    const invoke = load();

    const empty = await invoke(fileEvent('PUT', 'empty', { body: '' }));
    const absent = await invoke(fileEvent('PUT', 'absent', { body: null }));
    const get = await invoke(fileEvent('GET', 'empty'));

    expect(empty.statusCode).toBe(201);
    expect(absent.statusCode).toBe(201);
    expect(jsonBody(empty)).toMatchObject({ size: 0, contentType: 'application/octet-stream' });
    expect(get.statusCode).toBe(200);
    expect(responseBytes(get)).toHaveLength(0);
    expect(responseHeader(get, 'content-length')).toBe('0');
    expect((await stat(join(mount.root, 'absent'))).size).toBe(0);
  });

  test('a file of exactly MAX_FILE_BYTES is stored; one byte more is 413 and writes nothing', async () => {
    // Prepare
    const invoke = load();
    const largest = randomBytes(MAX_FILE_BYTES);
    const before = await invoke(fileEvent('PUT', 'big/kept', { body: 'small' }));

    // Act
    const exact = await invoke(fileEvent('PUT', 'big/exact', { body: largest }));
    const overNew = await invoke(fileEvent('PUT', 'big/over', { body: randomBytes(MAX_FILE_BYTES + 1) }));
    const overExisting = await invoke(fileEvent('PUT', 'big/kept', { body: randomBytes(MAX_FILE_BYTES + 1) }));
    const overText = await invoke(fileEvent('PUT', 'big/text', { body: 'x'.repeat(MAX_FILE_BYTES + 1), base64: false }));
    const read = await invoke(fileEvent('GET', 'big/exact'));

    // Assess
    expect(before.statusCode).toBe(201);
    expect(exact.statusCode).toBe(201);
    expect(responseBytes(read).equals(largest)).toBe(true);
    for (const response of [overNew, overExisting, overText]) expectError(response, 413, 'PayloadTooLarge', /exceeds 4194304 bytes/);
    expect((await readdir(join(mount.root, 'big'))).sort()).toEqual(['exact', 'kept']);
    expect(await readFile(join(mount.root, 'big/kept'), 'utf8')).toBe('small');
    expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  });

  test('MAX_FILE_BYTES is configurable', async () => {
    const invoke = load({ MAX_FILE_BYTES: '10' });

    const ok = await invoke(fileEvent('PUT', 'ten', { body: '0123456789' }));
    const over = await invoke(fileEvent('PUT', 'eleven', { body: '0123456789a' }));

    expect(ok.statusCode).toBe(201);
    expectError(over, 413, 'PayloadTooLarge', /exceeds 10 bytes/);
  });

  test('a text body (isBase64Encoded false, direct invocations) is stored as UTF-8', async () => {
    const invoke = load();

    const put = await invoke(fileEvent('PUT', 'notes/ünïcödé.txt', { body: 'grüße 😀', base64: false, contentType: 'text/plain' }));
    const get = await invoke(fileEvent('GET', 'notes/ünïcödé.txt'));

    expect(put.statusCode).toBe(201);
    expect(responseBytes(get).toString('utf8')).toBe('grüße 😀');
    expect(await readFile(join(mount.root, 'notes/ünïcödé.txt'), 'utf8')).toBe('grüße 😀');
  });

  test('replacing a file answers 200 with a new ETag; the content type follows the latest upload', async () => {
    const invoke = load();
    const first = await invoke(fileEvent('PUT', 'doc', { body: '<p>v1</p>', contentType: 'text/html' }));

    const second = await invoke(fileEvent('PUT', 'doc', { body: '{"v":2}', contentType: 'application/json' }));
    const get = await invoke(fileEvent('GET', 'doc'));

    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(etagOf(second)).not.toBe(etagOf(first));
    expect(responseHeader(get, 'etag')).toBe(etagOf(second));
    expect(responseHeader(get, 'content-type')).toBe('application/json');
    expect(responseBytes(get).toString()).toBe('{"v":2}');
  });

  test('the ETag covers the content type: the same bytes under another type get another ETag', async () => {
    const invoke = load();

    const asText = await invoke(fileEvent('PUT', 'same', { body: 'x', contentType: 'text/plain' }));
    const asCsv = await invoke(fileEvent('PUT', 'same', { body: 'x', contentType: 'text/csv' }));
    const asCsvAgain = await invoke(fileEvent('PUT', 'same', { body: 'x', contentType: 'text/csv' }));

    expect(etagOf(asCsv)).not.toBe(etagOf(asText));
    expect(etagOf(asCsvAgain)).toBe(etagOf(asCsv));
  });

  test('HEAD answers like GET without a body', async () => {
    const invoke = load();
    const put = await invoke(fileEvent('PUT', 'h.txt', { body: 'head me', contentType: 'text/plain' }));

    const head = await invoke(fileEvent('HEAD', 'h.txt'));

    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(responseHeader(head, 'etag')).toBe(etagOf(put));
    expect(responseHeader(head, 'content-length')).toBe('7');
    expect(responseHeader(head, 'content-type')).toBe('text/plain');
  });
});

describe('content type', () => {
  test('defaults to application/octet-stream', async () => {
    const invoke = load();

    await invoke(fileEvent('PUT', 'untyped', { body: 'x' }));
    const get = await invoke(fileEvent('GET', 'untyped'));

    expect(responseHeader(get, 'content-type')).toBe('application/octet-stream');
  });

  test.each([
    'text/plain',
    'image/svg+xml',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'text/plain;charset=UTF-8',
    'multipart/mixed; boundary="a b;c"',
    'text/plain; a=1; b="x\\"y";',
  ])('keeps the valid media type %j', async (contentType) => {
    const invoke = load();

    const put = await invoke(fileEvent('PUT', 'typed', { body: 'x', contentType }));
    const get = await invoke(fileEvent('GET', 'typed'));

    expect(put.statusCode).toBe(201);
    expect(responseHeader(get, 'content-type')).toBe(contentType);
  });

  test.each([
    ['no subtype', 'text'],
    ['an empty subtype', 'text/'],
    ['two slashes', 'text/plain/x'],
    ['a space in the type', 'text /plain'],
    ['a parameter without a value', 'text/plain; charset'],
    ['an unterminated quoted string', 'text/plain; a="x'],
    ['a control character', 'text/plain;\u0000a=b'],
    ['a line break (header injection)', 'text/plain\r\nSet-Cookie: a=b'],
    ['non-ASCII', 'text/plaïn'],
    ['more than 255 characters', `text/plain; a=${'x'.repeat(250)}`],
  ])('rejects a Content-Type with %s (400, nothing written)', async (_name, contentType) => {
    const invoke = load();

    const put = await invoke(fileEvent('PUT', 'typed', { body: 'x', contentType }));

    expectError(put, 400, 'BadRequest', /Content-Type/);
    expect(await readdir(mount.root)).toEqual([]);
  });

  test('two different Content-Type headers are a 400', async () => {
    const invoke = load();

    const put = await invoke(fileEvent('PUT', 'typed', { body: 'x', headers: { 'Content-Type': ['text/plain', 'text/html'] } }));

    expectError(put, 400, 'BadRequest', /Content-Type header must be given once/);
  });
});

describe('bad bodies', () => {
  test.each([
    ['characters outside the alphabet', 'aGVsbG8*'],
    ['the URL-safe alphabet', 'aGk_-A=='],
    ['whitespace', 'aGVs bG8='],
    ['non-canonical trailing bits', 'aGVsbG9='],
    ['padding in the middle', 'aG==VsbG8='],
  ])('base64 with %s is a 400 and writes nothing', async (_name, body) => {
    const invoke = load();

    const put = await invoke({ ...fileEvent('PUT', 'x', {}), body, isBase64Encoded: true });

    expectError(put, 400, 'BadRequest', /not valid base64/);
    expect(await readdir(mount.root)).toEqual([]);
  });

  test('unpadded canonical base64 is accepted', async () => {
    const invoke = load();

    const put = await invoke({ ...fileEvent('PUT', 'x', {}), body: 'aGk', isBase64Encoded: true });

    expect(put.statusCode).toBe(201);
    expect(await readFile(join(mount.root, 'x'), 'utf8')).toBe('hi');
  });

  test('a text body with an unpaired surrogate is a 400', async () => {
    const invoke = load();

    const put = await invoke(fileEvent('PUT', 'x', { body: 'a\ud800b', base64: false }));

    expectError(put, 400, 'BadRequest', /Unicode/);
  });
});

describe('conditional requests', () => {
  test('GET with If-None-Match: 304 without a body for the current ETag (weak or strong, or *), 200 otherwise', async () => {
    // Prepare
    const invoke = load();
    const etag = etagOf(await invoke(fileEvent('PUT', 'c', { body: 'cached' })));

    // Act
    const same = await invoke(fileEvent('GET', 'c', { headers: { 'If-None-Match': etag } }));
    const weak = await invoke(fileEvent('GET', 'c', { headers: { 'If-None-Match': `"other", W/${etag}` } }));
    const star = await invoke(fileEvent('GET', 'c', { headers: { 'If-None-Match': '*' } }));
    const other = await invoke(fileEvent('GET', 'c', { headers: { 'If-None-Match': '"0123456789abcdef0123456789abcdef"' } }));
    const malformed = await invoke(fileEvent('GET', 'c', { headers: { 'If-None-Match': 'not-quoted' } }));

    // Assess
    for (const response of [same, weak, star]) {
      expect(response.statusCode).toBe(304);
      expect(response.body).toBe('');
      expect(responseHeader(response, 'etag')).toBe(etag);
    }
    expect(other.statusCode).toBe(200);
    expect(responseBytes(other).toString()).toBe('cached');
    expectError(malformed, 400, 'BadRequest', /If-None-Match header is not a valid entity tag list/);
  });

  test('PUT with If-Match: the current ETag replaces, a stale one is 412 and changes nothing', async () => {
    const invoke = load();
    const v1 = etagOf(await invoke(fileEvent('PUT', 'doc', { body: 'v1' })));
    const v2 = etagOf(await invoke(fileEvent('PUT', 'doc', { body: 'v2', headers: { 'If-Match': v1 } })));

    const stale = await invoke(fileEvent('PUT', 'doc', { body: 'v3', headers: { 'If-Match': v1 } }));
    const weak = await invoke(fileEvent('PUT', 'doc', { body: 'v3', headers: { 'If-Match': `W/${v2}` } }));
    const listed = await invoke(fileEvent('PUT', 'doc', { body: 'v4', headers: { 'If-Match': `${v1}, ${v2}` } }));

    expectError(stale, 412, 'PreconditionFailed', /does not match If-Match/);
    expectError(weak, 412, 'PreconditionFailed');
    expect(listed.statusCode).toBe(200);
    expect(await readFile(join(mount.root, 'doc'), 'utf8')).toBe('v4');
  });

  test('PUT with If-Match on a missing file is 412 (also with *) and creates nothing', async () => {
    const invoke = load();

    const tagged = await invoke(fileEvent('PUT', 'dir/missing', { body: 'x', headers: { 'If-Match': '"0123456789abcdef0123456789abcdef"' } }));
    const star = await invoke(fileEvent('PUT', 'dir/missing', { body: 'x', headers: { 'If-Match': '*' } }));

    expectError(tagged, 412, 'PreconditionFailed', /does not exist/);
    expectError(star, 412, 'PreconditionFailed', /does not exist/);
    expect((await readdir(mount.root)).filter((name) => !name.startsWith('.efs-'))).toEqual([]);
    expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  });

  test('PUT with If-Match: * replaces an existing file', async () => {
    const invoke = load();
    await invoke(fileEvent('PUT', 'doc', { body: 'v1' }));

    const put = await invoke(fileEvent('PUT', 'doc', { body: 'v2', headers: { 'If-Match': '*' } }));

    expect(put.statusCode).toBe(200);
  });

  test('PUT with If-None-Match: * creates only', async () => {
    const invoke = load();

    const first = await invoke(fileEvent('PUT', 'once', { body: 'first', headers: { 'If-None-Match': '*' } }));
    const second = await invoke(fileEvent('PUT', 'once', { body: 'second', headers: { 'If-None-Match': '*' } }));

    expect(first.statusCode).toBe(201);
    expectError(second, 412, 'PreconditionFailed', /already exists/);
    expect(await readFile(join(mount.root, 'once'), 'utf8')).toBe('first');
  });

  test('PUT with an If-None-Match list is 412 when the current ETag is listed', async () => {
    const invoke = load();
    const etag = etagOf(await invoke(fileEvent('PUT', 'doc', { body: 'v1' })));

    const listed = await invoke(fileEvent('PUT', 'doc', { body: 'v2', headers: { 'If-None-Match': etag } }));
    const unlisted = await invoke(fileEvent('PUT', 'doc', { body: 'v3', headers: { 'If-None-Match': '"0123456789abcdef0123456789abcdef"' } }));

    expectError(listed, 412, 'PreconditionFailed');
    expect(unlisted.statusCode).toBe(200);
  });

  test.each(['If-Match', 'If-None-Match'])('a malformed %s header is a 400 before anything is written', async (name) => {
    const invoke = load();

    const put = await invoke(fileEvent('PUT', 'doc', { body: 'x', headers: { [name]: 'abc' } }));

    expectError(put, 400, 'BadRequest', new RegExp(`${name} header is not a valid entity tag list`));
    expect(await readdir(mount.root)).toEqual([]);
  });

  test('REQUIRE_IF_MATCH=true: creating needs no If-Match; replacing or deleting without it is 428', async () => {
    // Prepare
    const invoke = load({ REQUIRE_IF_MATCH: 'true' });
    const created = await invoke(fileEvent('PUT', 'guarded', { body: 'v1' }));
    const etag = etagOf(created);

    // Act
    const blindPut = await invoke(fileEvent('PUT', 'guarded', { body: 'v2' }));
    const blindDelete = await invoke(fileEvent('DELETE', 'guarded'));
    const staleDelete = await invoke(fileEvent('DELETE', 'guarded', { headers: { 'If-Match': '"0123456789abcdef0123456789abcdef"' } }));
    const createOnly = await invoke(fileEvent('PUT', 'guarded', { body: 'v2', headers: { 'If-None-Match': '*' } }));
    const put = await invoke(fileEvent('PUT', 'guarded', { body: 'v2', headers: { 'If-Match': etag } }));
    const del = await invoke(fileEvent('DELETE', 'guarded', { headers: { 'If-Match': etagOf(put) } }));

    // Assess
    expect(created.statusCode).toBe(201);
    expectError(blindPut, 428, 'PreconditionRequired', /If-Match/);
    expectError(blindDelete, 428, 'PreconditionRequired', /If-Match/);
    expectError(staleDelete, 412, 'PreconditionFailed');
    expectError(createOnly, 412, 'PreconditionFailed', /already exists/);
    expect(put.statusCode).toBe(200);
    expect(del.statusCode).toBe(204);
  });

  test('REQUIRE_IF_MATCH defaults to true, as the construct\'s requireIfMatch: a blind replacement is 428', async () => {
    const invoke = loadEfsFiles({ MOUNT_PATH: mount.root }).invoke;
    await invoke(fileEvent('PUT', 'doc', { body: 'v1' }));

    const put = await invoke(fileEvent('PUT', 'doc', { body: 'v2' }));

    expect(put.statusCode).toBe(428);
  });

  test('REQUIRE_IF_MATCH=false: blind replacement and deletion work', async () => {
    const invoke = load({ REQUIRE_IF_MATCH: 'false' });
    await invoke(fileEvent('PUT', 'doc', { body: 'v1' }));

    const put = await invoke(fileEvent('PUT', 'doc', { body: 'v2' }));
    const del = await invoke(fileEvent('DELETE', 'doc'));

    expect(put.statusCode).toBe(200);
    expect(del.statusCode).toBe(204);
  });
});

describe('delete', () => {
  test('204, then the file, its metadata and its emptied parent directories are gone', async () => {
    // Prepare
    const invoke = load();
    await invoke(fileEvent('PUT', 'a/b/c.txt', { body: 'x', contentType: 'text/plain' }));
    await invoke(fileEvent('PUT', 'a/sibling.txt', { body: 'y' }));

    // Act
    const del = await invoke(fileEvent('DELETE', 'a/b/c.txt'));
    const get = await invoke(fileEvent('GET', 'a/b/c.txt'));
    const again = await invoke(fileEvent('DELETE', 'a/b/c.txt'));

    // Assess
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expectError(get, 404, 'NotFound');
    expectError(again, 404, 'NotFound');
    expect(await readdir(join(mount.root, 'a'))).toEqual(['sibling.txt']);
    await expect(stat(sidecarOf(mount.root, 'a/b/c.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  });

  test('a deleted path can become a file where its directory was', async () => {
    const invoke = load();
    await invoke(fileEvent('PUT', 'x/y/z', { body: 'deep' }));
    await invoke(fileEvent('DELETE', 'x/y/z'));

    const put = await invoke(fileEvent('PUT', 'x', { body: 'flat' }));

    expect(put.statusCode).toBe(201);
    expect(await readFile(join(mount.root, 'x'), 'utf8')).toBe('flat');
  });

  test('If-Match: the current ETag deletes, a stale one is 412 and keeps the file', async () => {
    const invoke = load();
    const etag = etagOf(await invoke(fileEvent('PUT', 'doc', { body: 'v1' })));

    const stale = await invoke(fileEvent('DELETE', 'doc', { headers: { 'If-Match': '"0123456789abcdef0123456789abcdef"' } }));
    const exists = await readFile(join(mount.root, 'doc'), 'utf8');
    const current = await invoke(fileEvent('DELETE', 'doc', { headers: { 'If-Match': etag } }));

    expectError(stale, 412, 'PreconditionFailed');
    expect(exists).toBe('v1');
    expect(current.statusCode).toBe(204);
  });

  test('a missing file or a missing parent is a 404', async () => {
    const invoke = load();

    expectError(await invoke(fileEvent('DELETE', 'nothing')), 404, 'NotFound');
    expectError(await invoke(fileEvent('DELETE', 'no/such/dir/file')), 404, 'NotFound');
  });
});

describe('directories and special files', () => {
  test('GET, HEAD and DELETE of a directory are 404; PUT onto one is 409; a file as a parent is 409', async () => {
    // Prepare
    const invoke = load();
    await invoke(fileEvent('PUT', 'docs/readme.txt', { body: 'x' }));
    const before = await treeSnapshot(mount.root);

    // Act
    const get = await invoke(fileEvent('GET', 'docs'));
    const head = await invoke(fileEvent('HEAD', 'docs'));
    const del = await invoke(fileEvent('DELETE', 'docs'));
    const put = await invoke(fileEvent('PUT', 'docs', { body: 'y' }));
    const under = await invoke(fileEvent('PUT', 'docs/readme.txt/child', { body: 'y' }));
    const getUnder = await invoke(fileEvent('GET', 'docs/readme.txt/child'));

    // Assess
    expectError(get, 404, 'NotFound', /names a directory/);
    expect(head.statusCode).toBe(404);
    expectError(del, 404, 'NotFound', /names a directory/);
    expectError(put, 409, 'Conflict', /names a directory/);
    expectError(under, 409, 'Conflict', /parent of the file path is a file, not a directory: "docs\/readme.txt"/);
    expectError(getUnder, 404, 'NotFound');
    expect(await treeSnapshot(mount.root)).toEqual(before);
  });

  test('a file larger than MAX_FILE_BYTES put there by another client is a 409 on GET, fine on HEAD', async () => {
    const invoke = load({ MAX_FILE_BYTES: '10' });
    await writeFile(join(mount.root, 'huge.log'), 'x'.repeat(20));

    const get = await invoke(fileEvent('GET', 'huge.log'));
    const head = await invoke(fileEvent('HEAD', 'huge.log'));

    expectError(get, 409, 'Conflict', /20 bytes, more than this API returns \(10\)/);
    expect(head.statusCode).toBe(200);
    expect(responseHeader(head, 'content-length')).toBe('20');
  });
});

describe('files written by other clients of the share', () => {
  test('a file without metadata is served as application/octet-stream with a stable ETag that If-Match accepts', async () => {
    // Prepare
    const invoke = load();
    await mkdir(join(mount.root, 'ext'));
    await writeFile(join(mount.root, 'ext/data.csv'), 'a,b\n1,2\n');

    // Act
    const first = await invoke(fileEvent('GET', 'ext/data.csv'));
    const second = await invoke(fileEvent('GET', 'ext/data.csv'));
    const put = await invoke(fileEvent('PUT', 'ext/data.csv', { body: 'c,d', contentType: 'text/csv', headers: { 'If-Match': etagOf(first) } }));

    // Assess
    expect(first.statusCode).toBe(200);
    expect(responseHeader(first, 'content-type')).toBe('application/octet-stream');
    expect(responseBytes(first).toString()).toBe('a,b\n1,2\n');
    expect(etagOf(second)).toBe(etagOf(first));
    expect(put.statusCode).toBe(200);
  });

  test('data replaced behind the API loses its old content type and ETag (metadata is bound to the data)', async () => {
    const invoke = load();
    const put = await invoke(fileEvent('PUT', 'doc.html', { body: '<b>api</b>', contentType: 'text/html' }));
    await writeFile(join(mount.root, 'other-client.tmp'), 'replaced');
    await rename(join(mount.root, 'other-client.tmp'), join(mount.root, 'doc.html'));

    const get = await invoke(fileEvent('GET', 'doc.html'));
    const stale = await invoke(fileEvent('PUT', 'doc.html', { body: 'x', headers: { 'If-Match': etagOf(put) } }));

    expect(responseBytes(get).toString()).toBe('replaced');
    expect(responseHeader(get, 'content-type')).toBe('application/octet-stream');
    expect(etagOf(get)).not.toBe(etagOf(put));
    expectError(stale, 412, 'PreconditionFailed');
  });

  test('a file changed in place (same inode) gets a new ETag', async () => {
    const invoke = load();
    await writeFile(join(mount.root, 'log'), 'line 1\n');
    const before = etagOf(await invoke(fileEvent('GET', 'log')));

    await writeFile(join(mount.root, 'log'), 'line 1\nline 2\n', { flag: 'a' });
    const after = await invoke(fileEvent('GET', 'log'));

    expect(etagOf(after)).not.toBe(before);
    expect(responseBytes(after).toString()).toBe('line 1\nline 1\nline 2\n');
  });

  test('a sidecar already holding the next version (crash between the two renames) still describes the data in place', async () => {
    // Prepare: the state a writer leaves when it dies after publishing the sidecar, before the data.
    const invoke = load();
    const put = await invoke(fileEvent('PUT', 'doc', { body: 'v1', contentType: 'text/plain' }));
    const sidecar = sidecarOf(mount.root, 'doc');
    const doc = JSON.parse(await readFile(sidecar, 'utf8')) as { entries: object[] };
    doc.entries.unshift({ identity: '999999:2:1', contentType: 'text/html', etag: 'f'.repeat(32) });
    await writeFile(sidecar, JSON.stringify(doc));

    // Act
    const get = await invoke(fileEvent('GET', 'doc'));

    // Assess
    expect(responseHeader(get, 'content-type')).toBe('text/plain');
    expect(responseHeader(get, 'etag')).toBe(etagOf(put));
  });

  test.each([
    ['not JSON', '{'],
    ['another path', JSON.stringify({ v: 1, path: 'other', entries: [] })],
    ['an unknown version', JSON.stringify({ v: 2, path: 'doc', entries: [] })],
  ])('a corrupt sidecar (%s) falls back to the defaults instead of failing', async (_name, content) => {
    const invoke = load();
    await invoke(fileEvent('PUT', 'doc', { body: 'v1', contentType: 'text/plain' }));
    await writeFile(sidecarOf(mount.root, 'doc'), content);

    const get = await invoke(fileEvent('GET', 'doc'));

    expect(get.statusCode).toBe(200);
    expect(responseHeader(get, 'content-type')).toBe('application/octet-stream');
  });
});

describe('routing and the error model', () => {
  test.each([
    ['POST', 'file', 'GET, HEAD, PUT, DELETE'],
    ['PATCH', 'file', 'GET, HEAD, PUT, DELETE'],
    ['OPTIONS', 'file', 'GET, HEAD, PUT, DELETE'],
    ['PUT', 'collection', 'GET, HEAD'],
    ['DELETE', 'collection', 'GET, HEAD'],
    ['POST', 'collection', 'GET, HEAD'],
  ])('%s on the %s resource is 405 with Allow', async (method, resource, allow) => {
    const invoke = load();
    const event = resource === 'file' ? fileEvent(method, 'x', { body: 'b' }) : listEvent({}, method);

    const response = await invoke(event);

    expectError(response, 405, 'MethodNotAllowed', new RegExp(`Method ${method} is not allowed`));
    expect(responseHeader(response, 'allow')).toBe(allow);
    expect(await readdir(mount.root)).toEqual([]);
  });

  test('an unknown resource is 404', async () => {
    const invoke = load();

    const response = await invoke({ ...fileEvent('GET', 'x'), resource: '/other/{path+}' });

    expectError(response, 404, 'NotFound', /No such resource/);
  });

  test('a missing path parameter is a 400', async () => {
    const invoke = load();

    const response = await invoke({ ...fileEvent('GET', 'x'), pathParameters: null });

    expectError(response, 400, 'BadRequest', /must not be empty/);
  });

  test('errors carry the API Gateway request id', async () => {
    const invoke = load();
    const event = fileEvent('GET', 'missing');

    const response = await invoke(event);

    expect(jsonBody(response)).toMatchObject({ requestId: event.requestContext.requestId });
  });

  test('a missing mount is a 503 with Retry-After, logged as an error, and the handler keeps working once it is back', async () => {
    // Prepare
    const missing = join(mount.base, 'not-mounted');
    const invoke = loadEfsFiles({ MOUNT_PATH: missing, POWERTOOLS_LOG_LEVEL: 'ERROR', REQUIRE_IF_MATCH: 'false' }).invoke;
    const logged: string[] = [];
    // Powertools writes ERROR to stderr.
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });

    // Act
    let responses: APIGatewayProxyResult[];
    try {
      responses = [
        await invoke(fileEvent('PUT', 'x', { body: 'y' })),
        await invoke(fileEvent('GET', 'x')),
        await invoke(fileEvent('DELETE', 'x')),
        await invoke(listEvent()),
      ];
    } finally {
      spy.mockRestore();
    }
    await mkdir(missing);
    const afterMount = await invoke(fileEvent('PUT', 'x', { body: 'y' }));

    // Assess
    for (const response of responses) {
      expectError(response, 503, 'ServiceUnavailable', /not available/);
      expect(responseHeader(response, 'retry-after')).toBe('5');
    }
    expect(logged.join('')).toContain('MOUNT_PATH is missing or not a directory: the EFS mount failed');
    expect(afterMount.statusCode).toBe(201);
  });

  test('a MOUNT_PATH that is a file is a 503', async () => {
    const file = join(mount.base, 'a-file');
    await writeFile(file, '');
    const invoke = loadEfsFiles({ MOUNT_PATH: file }).invoke;

    expectError(await invoke(fileEvent('GET', 'x')), 503, 'ServiceUnavailable');
  });
});
