/**
 * What every local engine shares: the account and Region that local ARNs carry, and the AWS JSON
 * protocol's framing (awsJson1_0 / awsJson1_1: a JSON body, `X-Amz-Target: <Service>.<Operation>`,
 * errors as `{ __type, message }` with the `x-amzn-errortype` header).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The account id in every local ARN. */
export const LOCAL_ACCOUNT = '123456789012';
/** The Region in every local ARN and the one the functions' SDK clients are given. */
export const LOCAL_REGION = 'us-east-1';
/** What the runner's own SDK clients sign with: the local engines check no signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export type JsonProtocolVersion = '1.0' | '1.1';

/** Answers an AWS JSON protocol call; an `errorType` marks it as an error the SDK throws by that name. */
export function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string, version: JsonProtocolVersion = '1.1'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': `application/x-amz-json-${version}`,
    'content-length': String(Buffer.byteLength(text)),
    'x-amzn-requestid': randomUUID(),
    ...(errorType !== undefined ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

/** An error answer in the AWS JSON protocol: 400 unless the service says otherwise. */
export function sendJsonError(res: ServerResponse, errorType: string, message: string, status = 400, version: JsonProtocolVersion = '1.1'): void {
  sendJson(res, status, { __type: errorType, message }, errorType, version);
}
