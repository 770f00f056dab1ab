/**
 * The file storage example through the local runner: the function's EFS mount (`/mnt/data`
 * through the access point's root `/files`) is a local folder, and files round-trip over HTTP
 * into it and out of it.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileStorageExampleStack } from '../../examples/efs';
import { runStack, useLocalStack } from '../helpers/local-runner';

const IDENTITY = { 'x-local-identity': 'arn:aws:iam::123456789012:user/alice' };

/** The folder that stands in for the function's mount, as start-up reports it. */
function mountFolder(summary: string): string {
  const folder = /EFS +\/mnt\/data of function \S+ -> (\S+)/.exec(summary)?.[1];
  if (folder === undefined) throw new Error(`start-up named no EFS folder:\n${summary}`);
  return folder;
}

describe('the file storage example, run locally', () => {
  const running = useLocalStack((app) => new FileStorageExampleStack(app, 'FileStorageExample'));

  test('a file round-trips over HTTP (put, get, list, delete) through the local folder', async () => {
    const base = running.local.apiUrl();
    const folder = mountFolder(running.local.summary);
    // The access point's root directory inside its file system's folder.
    expect(folder).toMatch(/\/FilesFileSystem\w+\/files$/);
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

    const put = await fetch(`${base}/files/reports/2026/data.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'if-none-match': '*', ...IDENTITY },
      body: bytes,
    });
    expect(put.status).toBe(201);
    const etag = put.headers.get('etag')!;
    expect(readFileSync(join(folder, 'reports', '2026', 'data.bin'))).toEqual(bytes);

    const got = await fetch(`${base}/files/reports/2026/data.bin`, { headers: IDENTITY });
    expect({ status: got.status, etag: got.headers.get('etag') }).toEqual({ status: 200, etag });
    expect(Buffer.from(await got.arrayBuffer())).toEqual(bytes);

    const listed = await fetch(`${base}/files?prefix=reports/`, { headers: IDENTITY });
    expect(await listed.json()).toMatchObject({ files: [{ path: 'reports/2026/data.bin', size: 256, contentType: 'application/octet-stream' }] });

    const deleted = await fetch(`${base}/files/reports/2026/data.bin`, { method: 'DELETE', headers: { 'if-match': etag, ...IDENTITY } });
    expect(deleted.status).toBe(204);
    expect(existsSync(join(folder, 'reports'))).toBe(false);
    expect((await fetch(`${base}/files/reports/2026/data.bin`, { headers: IDENTITY })).status).toBe(404);
  });

  test('a file put on the folder is served: the folder is the mount', async () => {
    writeFileSync(join(mountFolder(running.local.summary), 'placed-by-hand.txt'), 'from the disk');
    const got = await fetch(`${running.local.apiUrl()}/files/placed-by-hand.txt`, { headers: IDENTITY });
    expect({ status: got.status, body: await got.text() }).toEqual({ status: 200, body: 'from the disk' });
  });

  test('start-up says the access point\'s POSIX user and root directory are not enforced', () => {
    expect(running.local.notEmulated.join('\n')).toMatch(/EFS access point \w+: its POSIX user \(1001:1001\) is not applied.*root directory \/files/);
  });

  test('each run gets a fresh folder, removed when the run stops', async () => {
    const second = await runStack(running.assemblyDir, 'FileStorageExample');
    const folder = mountFolder(second.local.summary);
    try {
      expect(folder).not.toBe(mountFolder(running.local.summary));
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      await second.local.stop();
    }
    expect(existsSync(folder)).toBe(false);
  });
});
