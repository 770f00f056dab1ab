/**
 * EFS file API across processes, as several Lambda instances sharing one file system: the built
 * bundle runs in separate `node` processes that start together and contend for the same paths.
 * In-process tests cannot prove this: there, a lock held in memory would pass them too.
 * Build the bundle first with `npx projen bundle` (`npm test` does).
 */
import { createTempMount, fileEvent, leftoverInternalFiles, loadEfsFiles, responseBytes, type TempMount } from '../helpers/efs';
import { builtBundle, runInFreshNode } from '../helpers/fresh-node';

const BUNDLE = builtBundle('efs', 'files');
const PROCESSES = 4;
const INCREMENTS_PER_PROCESS = 12;
const CLAIMS = ['claims/0', 'claims/1', 'claims/2', 'claims/3', 'claims/4'];

interface WorkerReport {
  readonly claims: number[];
  readonly increments: number;
  readonly conflicts: number;
}

/**
 * Each process waits for START_AT, then: If-None-Match: * on every claim path, and
 * INCREMENTS read-modify-write increments of `counter` (GET, then PUT with If-Match, again on 412),
 * two loops at a time.
 */
const WORKER = `
  const { handler } = await import(process.env.BUNDLE);
  const worker = process.env.WORKER;
  const context = { functionName: 'efs-files', awsRequestId: 'worker-' + worker, getRemainingTimeInMillis: () => 20000 };
  const event = (method, path, body, headers) => ({
    resource: '/files/{path+}', httpMethod: method, path: '/files/' + path, pathParameters: { path },
    headers: headers ?? {}, multiValueHeaders: null, queryStringParameters: null, multiValueQueryStringParameters: null,
    body: body === undefined ? null : Buffer.from(body).toString('base64'), isBase64Encoded: body !== undefined,
    requestContext: { requestId: worker + '-' + Math.random() },
  });
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  while (Date.now() < Number(process.env.START_AT)) await wait(2);

  const claims = await Promise.all(JSON.parse(process.env.CLAIMS).map((path) =>
    handler(event('PUT', path, 'claimed by ' + worker, { 'If-None-Match': '*' }), context).then((r) => r.statusCode)));
  let increments = 0;
  let conflicts = 0;
  const loop = async (count) => {
    for (let done = 0; done < count;) {
      const got = await handler(event('GET', 'counter'), context);
      if (got.statusCode !== 200) throw new Error('GET ' + got.statusCode + ' ' + got.body);
      const value = Number(Buffer.from(got.body, 'base64').toString());
      const put = await handler(event('PUT', 'counter', String(value + 1), { 'If-Match': got.headers.etag }), context);
      if (put.statusCode === 200) done++;
      else if (put.statusCode === 412) conflicts++;
      else throw new Error('PUT ' + put.statusCode + ' ' + put.body);
    }
    increments += count;
  };
  const half = Number(process.env.INCREMENTS) / 2;
  await Promise.all([loop(half), loop(half)]);
  report({ claims, increments, conflicts });`;

let mount: TempMount;

beforeAll(async () => {
  mount = await createTempMount();
});

afterAll(async () => {
  await mount.cleanup();
});

test(`${PROCESSES} processes: one winner per If-None-Match: * path and no lost read-modify-write update`, async () => {
  // Prepare
  const { invoke } = loadEfsFiles({ MOUNT_PATH: mount.root });
  expect((await invoke(fileEvent('PUT', 'counter', { body: '0', contentType: 'text/plain' }))).statusCode).toBe(201);
  const startAt = Date.now() + 2_000; // after every process has imported the bundle

  // Act
  const runs = await Promise.all(Array.from({ length: PROCESSES }, (_, worker) => runInFreshNode<WorkerReport>(WORKER, {
    BUNDLE,
    WORKER: String(worker),
    START_AT: String(startAt),
    CLAIMS: JSON.stringify(CLAIMS),
    INCREMENTS: String(INCREMENTS_PER_PROCESS),
    MOUNT_PATH: mount.root,
  })));

  // Assess
  for (const run of runs) expect(run.error).toBeUndefined();
  CLAIMS.forEach((_, claim) => {
    const statuses = runs.map((run) => run.claims![claim]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(PROCESSES - 1);
  });
  for (const [claim, path] of CLAIMS.entries()) {
    const winner = runs.findIndex((run) => run.claims![claim] === 201);
    expect(responseBytes(await invoke(fileEvent('GET', path))).toString()).toBe(`claimed by ${winner}`);
  }
  const counter = await invoke(fileEvent('GET', 'counter'));
  expect(responseBytes(counter).toString()).toBe(String(PROCESSES * INCREMENTS_PER_PROCESS));
  expect(counter.headers?.['content-type']).toBe('application/octet-stream'); // the increments sent no type
  expect(runs.reduce((sum, run) => sum + run.conflicts!, 0)).toBeGreaterThan(0); // they did contend
  expect(await leftoverInternalFiles(mount.root)).toEqual([]);
});
