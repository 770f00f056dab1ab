/**
 * EFS file API under concurrency, in one process (the file system calls run in parallel on
 * libuv's thread pool): writes are atomic (readers see whole versions, each with its own content
 * type and ETag), conditional writes let exactly one writer win, and locks are cleaned up, broken
 * when stale, and waited for within the invocation deadline. handler.processes.test.ts repeats
 * the conditional writes across processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jsonBody, lambdaContext, responseHeader } from '../helpers/api-gateway-events';
import { createTempMount, fileEvent, leftoverInternalFiles, loadEfsFiles, lockFileOf, responseBytes, type TempMount } from '../helpers/efs';
import type { Env, Invoke } from '../helpers/load-handler';

let mount: TempMount;

beforeEach(async () => {
  mount = await createTempMount();
});

afterEach(async () => {
  await mount.cleanup();
});

function load(env: Env = {}): Invoke {
  // These tests replace and delete without If-Match.
  return loadEfsFiles({ MOUNT_PATH: mount.root, REQUIRE_IF_MATCH: 'false', ...env }).invoke;
}

interface Version {
  readonly bytes: Buffer;
  readonly contentType: string;
  etag?: string;
}

test('parallel PUTs of large bodies with parallel GETs: every read is one whole version with its own type and ETag', async () => {
  // Prepare
  const invoke = load();
  const versions: Version[] = Array.from({ length: 13 }, (_, i) => ({
    bytes: Buffer.concat([Buffer.from(`version ${i}:`), randomBytes(512 * 1024)]),
    contentType: `application/x-version-${i}`,
  }));
  const initial = await invoke(fileEvent('PUT', 'shared/blob', { body: versions[0].bytes, contentType: versions[0].contentType }));
  versions[0].etag = responseHeader(initial, 'etag');

  // Act
  let writing = true;
  const reads: APIGatewayProxyResult[] = [];
  const readers = Array.from({ length: 6 }, async () => {
    while (writing) reads.push(await invoke(fileEvent('GET', 'shared/blob')));
  });
  const writes = await Promise.all(versions.slice(1).map((v) => invoke(fileEvent('PUT', 'shared/blob', { body: v.bytes, contentType: v.contentType }))));
  writing = false;
  await Promise.all(readers);
  const final = await invoke(fileEvent('GET', 'shared/blob'));

  // Assess
  writes.forEach((w, i) => {
    expect(w.statusCode).toBe(200);
    versions[i + 1].etag = responseHeader(w, 'etag');
  });
  expect(reads.length).toBeGreaterThanOrEqual(6);
  for (const read of [...reads, final]) {
    expect(read.statusCode).toBe(200);
    const bytes = responseBytes(read);
    const version = versions.find((v) => v.bytes.equals(bytes));
    expect(version).toBeDefined(); // never a torn or mixed body
    expect(responseHeader(read, 'content-type')).toBe(version!.contentType);
    expect(responseHeader(read, 'etag')).toBe(version!.etag);
  }
  expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  expect(await readdir(join(mount.root, 'shared'))).toEqual(['blob']);
});

test('20 parallel If-None-Match: * PUTs to a new path: exactly one 201, 19 412s, and the file is the winner\'s', async () => {
  const invoke = load();

  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    invoke(fileEvent('PUT', 'claims/slot', { body: `writer ${i}`, contentType: `text/x-writer-${i}`, headers: { 'If-None-Match': '*' } }))));

  const statuses = responses.map((r) => r.statusCode);
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  expect(statuses.filter((s) => s === 412)).toHaveLength(19);
  const winner = statuses.indexOf(201);
  const get = await invoke(fileEvent('GET', 'claims/slot'));
  expect(responseBytes(get).toString()).toBe(`writer ${winner}`);
  expect(responseHeader(get, 'content-type')).toBe(`text/x-writer-${winner}`);
  expect(await leftoverInternalFiles(mount.root)).toEqual([]);
});

test('20 parallel PUTs with the same If-Match: exactly one 200, no lost update', async () => {
  const invoke = load();
  const etag = responseHeader(await invoke(fileEvent('PUT', 'doc', { body: 'v0' })), 'etag')!;

  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    invoke(fileEvent('PUT', 'doc', { body: `v1 by ${i}`, headers: { 'If-Match': etag } }))));

  const statuses = responses.map((r) => r.statusCode);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s === 412)).toHaveLength(19);
  expect(await readFile(join(mount.root, 'doc'), 'utf8')).toBe(`v1 by ${statuses.indexOf(200)}`);
});

test('20 parallel DELETEs with the same If-Match: exactly one 204, the others 404 or 412', async () => {
  const invoke = load();
  const etag = responseHeader(await invoke(fileEvent('PUT', 'gone/doc', { body: 'x' })), 'etag')!;

  const responses = await Promise.all(Array.from({ length: 20 }, () => invoke(fileEvent('DELETE', 'gone/doc', { headers: { 'If-Match': etag } }))));

  const statuses = responses.map((r) => r.statusCode);
  expect(statuses.filter((s) => s === 204)).toHaveLength(1);
  expect(statuses.every((s) => s === 204 || s === 404 || s === 412)).toBe(true);
  expect(await readdir(mount.root)).not.toContain('gone');
  expect(await leftoverInternalFiles(mount.root)).toEqual([]);
});

test('uploads into a directory that a parallel DELETE empties and removes all succeed', async () => {
  const invoke = load();

  for (let round = 0; round < 10; round++) {
    await invoke(fileEvent('PUT', `race/dir${round}/seed`, { body: 'seed' }));
    const [deleted, ...uploads] = await Promise.all([
      invoke(fileEvent('DELETE', `race/dir${round}/seed`)),
      ...Array.from({ length: 5 }, (_, i) => invoke(fileEvent('PUT', `race/dir${round}/f${i}`, { body: `f${i}` }))),
    ]);

    expect(deleted.statusCode).toBe(204);
    expect(uploads.map((u) => u.statusCode)).toEqual([201, 201, 201, 201, 201]);
    expect((await readdir(join(mount.root, 'race', `dir${round}`))).sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
  }
});

describe('locks', () => {
  async function plantLock(path: string, ageMs: number): Promise<string> {
    const lockFile = lockFileOf(mount.root, path);
    await mkdir(dirname(lockFile), { recursive: true });
    await writeFile(lockFile, JSON.stringify({ owner: 'another instance' }));
    const when = new Date(Date.now() - ageMs);
    await utimes(lockFile, when, when);
    return lockFile;
  }

  test('a lock left by a dead writer (older than 30 s) is broken, with a warning, and the write goes through', async () => {
    // Prepare
    const invoke = load({ POWERTOOLS_LOG_LEVEL: 'WARN' });
    const lockFile = await plantLock('locked/doc', 60_000);
    const logged: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) => jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    }));

    // Act
    let response: APIGatewayProxyResult;
    try {
      response = await invoke(fileEvent('PUT', 'locked/doc', { body: 'after the dead writer' }));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }

    // Assess
    expect(response.statusCode).toBe(201);
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(logged.join('')).toContain('broke a stale file lock');
    expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  });

  test('20 writers racing to break the same stale lock: it is broken once and exactly one create-only write wins', async () => {
    const invoke = load();
    await plantLock('contended', 60_000);

    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      invoke(fileEvent('PUT', 'contended', { body: `writer ${i}`, headers: { 'If-None-Match': '*' } }))));

    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    expect(await readFile(join(mount.root, 'contended'), 'utf8')).toBe(`writer ${statuses.indexOf(201)}`);
    expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  });

  test('a breaker that died mid-break (a stale .break file) does not block the path forever', async () => {
    const invoke = load();
    const lockFile = await plantLock('orphaned', 60_000);
    await writeFile(`${lockFile}.break`, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${lockFile}.break`, old, old);

    const response = await invoke(fileEvent('PUT', 'orphaned', { body: 'through' }));

    expect(response.statusCode).toBe(201);
    expect(await leftoverInternalFiles(mount.root)).toEqual([]);
  });

  test('a held lock makes writers wait until the deadline, then 503 with nothing written; readers are not blocked', async () => {
    // Prepare
    const invoke = load();
    await invoke(fileEvent('PUT', 'busy/doc', { body: 'original' }));
    const lockFile = await plantLock('busy/doc', 0);
    const shortInvocation = lambdaContext({ getRemainingTimeInMillis: () => 1_500 });

    // Act
    const started = Date.now();
    const put = await invoke(fileEvent('PUT', 'busy/doc', { body: 'blocked' }), shortInvocation);
    const del = await invoke(fileEvent('DELETE', 'busy/doc'), shortInvocation);
    const elapsed = Date.now() - started;
    const get = await invoke(fileEvent('GET', 'busy/doc'));

    // Assess
    for (const response of [put, del]) {
      expect(response.statusCode).toBe(503);
      expect(jsonBody(response)).toMatchObject({ error: 'ServiceUnavailable', message: expect.stringMatching(/another request|retry later/) });
      expect(responseHeader(response, 'retry-after')).toBe('1');
    }
    // Waited for the lock until each invocation's deadline (no upper bound: a loaded machine stretches it).
    expect(elapsed).toBeGreaterThanOrEqual(1_800);
    expect(responseBytes(get).toString()).toBe('original');
    expect(await readFile(lockFile, 'utf8')).toContain('another instance'); // someone else's lock is left alone
    expect((await leftoverInternalFiles(mount.root)).filter((f) => !f.startsWith('.efs-locks/'))).toEqual([]);
  });

  test('a lock on one path does not block writes to another', async () => {
    const invoke = load();
    await plantLock('a', 0);

    const response = await invoke(fileEvent('PUT', 'b', { body: 'free' }), lambdaContext({ getRemainingTimeInMillis: () => 1_500 }));

    expect(response.statusCode).toBe(201);
  });
});
