/**
 * The web application example through the local runner: its CloudFront distribution is a local
 * site serving the SPA that the bucket deployments would copy (from the assembly's assets), a
 * `/config.json` for the local site, and `/api/*` proxied to the local REST API, where a Cognito
 * authorizer's claims come from the `x-local-identity` header. Then a site deployed from a zip
 * file asset.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { WebApplicationExampleStack } from '../../examples/web-app';
import { parseConfig } from '../../web/src/config';
import { useLocalStack } from '../helpers/local-runner';

const ALICE = { 'x-local-identity': JSON.stringify({ sub: 'alice', email: 'alice@example.com', scope: 'openid api/items' }) };
const BOB = { 'x-local-identity': JSON.stringify({ sub: 'bob' }) };

/** The URL of the distribution's local site, as start-up reports it. */
function siteUrl(summary: string): string {
  const url = /site +\w+: (http:\/\/127\.0\.0\.1:\d+)\//.exec(summary)?.[1];
  if (url === undefined) throw new Error(`start-up named no site:\n${summary}`);
  return url;
}

describe('the web application example, run locally', () => {
  const running = useLocalStack((app) => new WebApplicationExampleStack(app, 'WebApplicationExample'));

  test('serves the SPA: index.html at the root and on its routes, and the hashed files it loads', async () => {
    const site = siteUrl(running.local.summary);
    const root = await fetch(`${site}/`);
    const html = await root.text();
    expect({ status: root.status, type: root.headers.get('content-type'), cache: root.headers.get('cache-control') })
      .toEqual({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache' });
    expect(html).toMatch(/<title>Items<\/title>/);
    // The SPA route fallback (a CloudFront Function of the template) serves index.html for a route.
    expect(await (await fetch(`${site}/auth/callback?code=x&state=y`)).text()).toBe(html);

    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${site}${script}`);
    expect({ status: asset.status, cache: asset.headers.get('cache-control') }).toEqual({ status: 200, cache: 'public, max-age=31536000, immutable' });
    // A file the deployments did not put there: the private bucket answers 403, as S3 does through origin access control.
    expect((await fetch(`${site}/assets/missing.js`)).status).toBe(403);
  });

  test('serves a /config.json for the local site, which the SPA accepts', async () => {
    const site = siteUrl(running.local.summary);
    const response = await fetch(`${site}/config.json`);
    expect(response.status).toBe(200);
    const config = parseConfig(await response.json());
    expect(config).toMatchObject({
      apiBasePath: '/api',
      resourceName: 'items',
      auth: {
        authority: `${site}/local-runner/cognito`,
        redirectPath: '/auth/callback',
        scopes: ['openid', 'email', 'profile', 'api/items'],
        metadata: { authorization_endpoint: `${site}/local-runner/cognito/oauth2/authorize`, token_endpoint: `${site}/local-runner/cognito/oauth2/token` },
      },
    });
    // Sign-in cannot work locally, and says so where the SPA sends the browser.
    const signIn = await fetch(config.auth.metadata.authorization_endpoint);
    expect(signIn.status).toBe(501);
    expect(await signIn.text()).toMatch(/x-local-identity/);
    expect(running.local.notEmulated.join('\n')).toMatch(/sign-in \(Cognito\)/);
  });

  test('the site\'s API: creates an item, then gets it, as its owner only', async () => {
    const site = siteUrl(running.local.summary);
    const created = await fetch(`${site}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ALICE },
      body: JSON.stringify({ title: 'Water the plants' }),
    });
    const item = await created.json() as { id: string; title: string };
    expect({ status: created.status, body: item }).toMatchObject({ status: 201, body: { title: 'Water the plants' } });
    // The API answers with the paths the browser uses (X-Forwarded-Prefix from the template's CloudFront Function).
    expect(created.headers.get('location')).toBe(`/api/items/${item.id}`);

    const read = await fetch(`${site}/api/items/${item.id}`, { headers: ALICE });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: item.id, title: 'Water the plants' });
    expect((await fetch(`${site}/api/items/${item.id}`, { headers: BOB })).status).toBe(404);
    expect((await fetch(`${site}/api/items/${item.id}`)).status).toBe(401);
  });
});

/** A zip archive of `files` (deflated), written with node:zlib only. */
function zipOf(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('a site deployed from a zip file asset, run locally', () => {
  const folder = mkdtempSync(join(tmpdir(), 'local-site-zip-'));
  const zipFile = join(folder, 'site.zip');
  writeFileSync(zipFile, zipOf({ 'index.html': '<!doctype html><title>zipped</title>', 'docs/guide.txt': 'read me' }));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const running = useLocalStack((app) => {
    const stack = new Stack(app, 'ZippedSite');
    const bucket = new s3.Bucket(stack, 'Site');
    new cloudfront.Distribution(stack, 'Distribution', {
      defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
      defaultRootObject: 'index.html',
    });
    new s3deploy.BucketDeployment(stack, 'Deploy', { destinationBucket: bucket, sources: [s3deploy.Source.asset(zipFile)], destinationKeyPrefix: 'web/' });
    return stack;
  });

  test('serves the archive\'s files under the deployment\'s key prefix', async () => {
    const site = siteUrl(running.local.summary);
    const guide = await fetch(`${site}/web/docs/guide.txt`);
    expect({ status: guide.status, type: guide.headers.get('content-type'), body: await guide.text() })
      .toEqual({ status: 200, type: 'text/plain; charset=utf-8', body: 'read me' });
    expect(await (await fetch(`${site}/web/index.html`)).text()).toBe('<!doctype html><title>zipped</title>');
    // The default root object is index.html at the bucket's top, where this deployment put nothing.
    expect((await fetch(`${site}/`)).status).toBe(403);
  });
});
