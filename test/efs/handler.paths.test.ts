/**
 * EFS file API: path safety. Every lexical rule is a 400 with its own message, and links planted
 * in the root (pointing outside it, or aliasing its internal directories) never let a request
 * read, write, delete or list anything through them.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jsonBody } from '../helpers/api-gateway-events';
import { SECRET, createTempMount, fileEvent, listEvent, loadEfsFiles, responseBytes, treeSnapshot, type TempMount } from '../helpers/efs';
import type { Invoke } from '../helpers/load-handler';

let mount: TempMount;
let invoke: Invoke;

beforeAll(async () => {
  mount = await createTempMount();
  ({ invoke } = loadEfsFiles({ MOUNT_PATH: mount.root, REQUIRE_IF_MATCH: 'false' }));
});

afterAll(async () => {
  await mount.cleanup();
});

function expect400(response: APIGatewayProxyResult, message: RegExp): void {
  expect(response.statusCode).toBe(400);
  expect(jsonBody(response)).toEqual({ error: 'BadRequest', message: expect.stringMatching(message), requestId: expect.any(String) });
}

describe('lexical rules', () => {
  const segment255 = 'é'.repeat(127) + 'a'; // 255 bytes in UTF-8
  const path1024 = Array.from({ length: 8 }, (_, i) => `${i}`.padEnd(127, 'p')).join('/'); // 8 * 127 + 7 = 1023
  test.each([
    ['empty', '', /must not be empty/],
    ['absolute', '/etc/passwd', /must be relative \(no leading \/\)/],
    ['a .. segment', 'a/../b', /must not contain \. or \.\. segments/],
    ['only ..', '..', /must not contain \. or \.\. segments/],
    ['a leading ..', '../outside/secret.txt', /must not contain \. or \.\. segments/],
    ['a . segment', 'a/./b', /must not contain \. or \.\. segments/],
    ['an empty segment', 'a//b', /must not contain empty segments/],
    ['a trailing /', 'a/b/', /must not end with \//],
    ['NUL', 'a\u0000b', /NUL or other control characters/],
    ['a line feed', 'a\nb', /NUL or other control characters/],
    ['DEL', 'a\u007fb', /NUL or other control characters/],
    ['a C1 control', 'a\u0085b', /NUL or other control characters/],
    ['a backslash', 'a\\b', /must not contain backslashes/],
    ['a Windows-style traversal', '..\\outside', /must not contain backslashes/],
    ['a lone surrogate', 'a\ud800b', /well-formed Unicode/],
    ['a 256-byte segment', `${segment255}b`, /Each segment of the file path must be at most 255 bytes/],
    ['a 1025-byte path', `${path1024}xx`, /must be at most 1024 bytes/],
    ['33 segments', Array.from({ length: 33 }, () => 's').join('/'), /at most 32 segments/],
    ['the metadata directory', '.efs-meta/00/x.json', /starting with \.efs- are reserved/],
    ['the lock directory', '.efs-locks/x.lock', /starting with \.efs- are reserved/],
    ['a temp file name', 'docs/.efs-tmp-1234', /starting with \.efs- are reserved/],
    ['a reserved name in another case', '.EFS-Meta', /starting with \.efs- are reserved/],
  ])('%s is rejected on PUT, GET, HEAD and DELETE and writes nothing', async (_name, path, message) => {
    const before = await treeSnapshot(mount.base);

    for (const method of ['PUT', 'GET', 'DELETE']) {
      expect400(await invoke(fileEvent(method, path, method === 'PUT' ? { body: 'x' } : {})), message);
    }
    expect((await invoke(fileEvent('HEAD', path))).statusCode).toBe(400);
    expect(await treeSnapshot(mount.base)).toEqual(before);
  });

  test.each([
    ['a 255-byte segment', segment255],
    ['a 1023-byte path', path1024],
    ['32 segments', Array.from({ length: 32 }, (_, i) => `d${i}`).join('/')],
    ['unicode', 'über/日本語/😀.txt'],
    ['spaces and punctuation', 'my docs/report (final) #2 & more!.pdf'],
    ['percent signs (already decoded, taken literally)', 'a%2Fb%00c'],
    ['dot names that are not . or ..', '.hidden/...three/..x/x.'],
    ['a name close to the reserved prefix', '.efs/.efsx-meta/efs-tmp'],
  ])('%s is a valid path', async (_name, path) => {
    const put = await invoke(fileEvent('PUT', path, { body: path }));
    const get = await invoke(fileEvent('GET', path));

    expect(put.statusCode).toBe(201);
    expect(responseBytes(get).toString('utf8')).toBe(path);
    expect(await readFile(join(mount.root, path), 'utf8')).toBe(path);
  });
});

describe('links', () => {
  let links: TempMount;
  let linkedInvoke: Invoke;

  beforeAll(async () => {
    links = await createTempMount();
    ({ invoke: linkedInvoke } = loadEfsFiles({ MOUNT_PATH: links.root, REQUIRE_IF_MATCH: 'false' }));
    await linkedInvoke(fileEvent('PUT', 'real/inside.txt', { body: 'inside' }));
    await symlink('../outside', join(links.root, 'link-dir'));
    await symlink('../outside/secret.txt', join(links.root, 'link-file'));
    await symlink(links.outside, join(links.root, 'abs-link'));
    await symlink('../../outside', join(links.root, 'real', 'inner-link'));
    await symlink('real/inside.txt', join(links.root, 'in-root-file-link'));
    await symlink('real', join(links.root, 'in-root-dir-link'));
    await symlink('.efs-meta', join(links.root, 'meta-alias'));
    await symlink('loop', join(links.root, 'loop'));
    await symlink('missing-target', join(links.root, 'dangling'));
  });

  afterAll(async () => {
    await links.cleanup();
  });

  const cases: Array<[string, RegExp]> = [
    ['link-file', /names a symbolic link/],
    ['link-dir/secret.txt', /must not go through a symbolic link/],
    ['abs-link/secret.txt', /must not go through a symbolic link/],
    ['real/inner-link/secret.txt', /must not go through a symbolic link/],
    ['in-root-file-link', /names a symbolic link/],
    ['in-root-dir-link/inside.txt', /must not go through a symbolic link/],
    ['loop', /names a symbolic link/],
    ['loop/x', /must not go through a symbolic link/],
    ['dangling', /names a symbolic link/],
  ];

  test.each(cases)('GET and HEAD of %s are 400 and never serve what the link points to', async (path, message) => {
    const get = await linkedInvoke(fileEvent('GET', path));
    const head = await linkedInvoke(fileEvent('HEAD', path));

    expect400(get, message);
    expect(get.body).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(head.statusCode).toBe(400);
  });

  test.each([
    ...cases,
    ['link-dir/new.txt', /must not go through a symbolic link/],
    ['link-dir/sub/new.txt', /must not go through a symbolic link/],
    ['abs-link/new.txt', /must not go through a symbolic link/],
    ['meta-alias/00/forged.json', /must not go through a symbolic link/],
  ] as Array<[string, RegExp]>)('PUT and DELETE of %s are 400 and change nothing inside or outside', async (path, message) => {
    const before = await treeSnapshot(links.base);

    const put = await linkedInvoke(fileEvent('PUT', path, { body: 'overwritten!' }));
    const del = await linkedInvoke(fileEvent('DELETE', path));

    expect400(put, message);
    expect(del.statusCode).toBe(400);
    expect(await treeSnapshot(links.base)).toEqual(before);
    expect(await readFile(links.secretFile, 'utf8')).toBe(SECRET);
    expect(await readdir(links.outside)).toEqual(['secret.txt']);
  });

  test('the listing skips links and never lists what they point to', async () => {
    const all = await linkedInvoke(listEvent());
    const throughLink = await linkedInvoke(listEvent({ prefix: 'link-dir/' }));
    const throughInnerLink = await linkedInvoke(listEvent({ prefix: 'real/inner-link/' }));

    expect(jsonBody<{ files: Array<{ path: string }> }>(all).files.map((f) => f.path)).toEqual(['real/inside.txt']);
    expect(jsonBody(throughLink)).toEqual({ files: [] });
    expect(jsonBody(throughInnerLink)).toEqual({ files: [] });
  });

  test('a link in place of the root is followed once: MOUNT_PATH may itself be a link (e.g. /mnt -> /efs)', async () => {
    const viaLink = join(links.base, 'mount-link');
    await symlink(links.root, viaLink);
    const { invoke: viaLinkInvoke } = loadEfsFiles({ MOUNT_PATH: viaLink });

    const get = await viaLinkInvoke(fileEvent('GET', 'real/inside.txt'));
    const escape = await viaLinkInvoke(fileEvent('GET', 'link-file'));

    expect(responseBytes(get).toString()).toBe('inside');
    expect(escape.statusCode).toBe(400);
  });
});

describe('special files', () => {
  test('a FIFO on the share is never opened for a blocking read', async () => {
    const special = await createTempMount();
    try {
      const { invoke: specialInvoke } = loadEfsFiles({ MOUNT_PATH: special.root });
      await mkdir(join(special.root, 'dev'));
      execFileSync('mkfifo', [join(special.root, 'dev', 'pipe')]);
      await writeFile(join(special.root, 'dev', 'file'), 'x');

      const get = await specialInvoke(fileEvent('GET', 'dev/pipe'));
      const put = await specialInvoke(fileEvent('PUT', 'dev/pipe', { body: 'y' }));
      const list = await specialInvoke(listEvent({ prefix: 'dev/' }));

      expect(get.statusCode).toBe(404);
      expect(jsonBody(get)).toMatchObject({ message: expect.stringMatching(/special file/) });
      expect(put.statusCode).toBe(409);
      expect(jsonBody<{ files: Array<{ path: string }> }>(list).files.map((f) => f.path)).toEqual(['dev/file']);
    } finally {
      await special.cleanup();
    }
  });
});
