/**
 * The AWS Query protocol as `@aws-sdk/client-sns` speaks it (awsQuery, API version 2010-03-31): a
 * form-urlencoded POST `Action=<Operation>&Version=2010-03-31&...` with maps as
 * `Name.entry.N.key/value` (message attributes: `MessageAttributes.entry.N.Name`,
 * `.Value.DataType`, `.Value.StringValue`, `.Value.BinaryValue` in base64) and lists as
 * `Name.member.N...`; answers are XML (`<XResponse><XResult>...</XResult><ResponseMetadata>`), errors
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`, the SDK
 * throwing the exception whose query error code is `Code` (`NotFound` is `NotFoundException`,
 * `InvalidParameter` is `InvalidParameterException`, `ParameterValueInvalid` is
 * `InvalidParameterValueException`, ...).
 */
import type { ServerResponse } from 'node:http';

export const SNS_XML_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** An error SNS answers with: the query error code (`NotFound`, `InvalidParameter`, ...) and its HTTP status. */
export class SnsError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
    this.name = 'SnsError';
  }
}

export interface QueryMessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Buffer;
}

/** The indexes N of `${prefix}.N.` keys, in order. */
function indexes(params: URLSearchParams, prefix: string): number[] {
  const found = new Set<number>();
  const start = `${prefix}.`;
  for (const key of params.keys()) {
    if (!key.startsWith(start)) continue;
    const n = Number(key.slice(start.length).split('.')[0]);
    if (Number.isSafeInteger(n) && n > 0) found.add(n);
  }
  return [...found].sort((a, b) => a - b);
}

/** `${prefix}.entry.N.Name` / `.Value.*` into a map by name. */
export function readMessageAttributes(params: URLSearchParams, prefix: string): Record<string, QueryMessageAttribute> {
  const out: Record<string, QueryMessageAttribute> = {};
  for (const n of indexes(params, `${prefix}.entry`)) {
    const at = `${prefix}.entry.${n}`;
    const name = params.get(`${at}.Name`) ?? '';
    const binary = params.get(`${at}.Value.BinaryValue`);
    const string = params.get(`${at}.Value.StringValue`);
    out[name] = {
      DataType: params.get(`${at}.Value.DataType`) ?? '',
      ...(string !== null ? { StringValue: string } : {}),
      ...(binary !== null ? { BinaryValue: Buffer.from(binary, 'base64') } : {}),
    };
  }
  return out;
}

/** `${prefix}.member.N.<field>` lists: one sub-parameter set per member, with the member prefix removed. */
export function readMembers(params: URLSearchParams, prefix: string): URLSearchParams[] {
  return indexes(params, `${prefix}.member`).map((n) => {
    const at = `${prefix}.member.${n}.`;
    const member = new URLSearchParams();
    for (const [key, value] of params) if (key.startsWith(at)) member.append(key.slice(at.length), value);
    return member;
  });
}

/** Whether the list parameter was sent at all (the SDK sends `Name=` for an empty list). */
export function hasList(params: URLSearchParams, prefix: string): boolean {
  for (const key of params.keys()) if (key === prefix || key.startsWith(`${prefix}.`)) return true;
  return false;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function xmlText(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** `<tag>escaped value</tag>`, or nothing for an undefined value. */
export function xmlElement(tag: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${tag}>${xmlText(String(value))}</${tag}>`;
}

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  const body = `<?xml version="1.0"?>\n${xml}`;
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': requestId,
  });
  res.end(body);
}

/** Answers `action` with its `<ActionResult>` content (already XML). */
export function sendQueryResult(res: ServerResponse, action: string, resultXml: string, requestId: string): void {
  send(res, 200, `<${action}Response xmlns="${SNS_XML_NAMESPACE}"><${action}Result>${resultXml}</${action}Result>`
    + `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`, requestId);
}

export function sendQueryError(res: ServerResponse, error: SnsError, requestId: string): void {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  send(res, error.status, `<ErrorResponse xmlns="${SNS_XML_NAMESPACE}"><Error><Type>${type}</Type>${xmlElement('Code', error.code)}`
    + `${xmlElement('Message', error.message)}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`, requestId);
}
