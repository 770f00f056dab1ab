/**
 * Paging styles: how the URL of the next page follows from the current page.
 * - `none`: one request to SOURCE_URL.
 * - `page`: SOURCE_URL with `PAGE_PARAM=FIRST_PAGE, FIRST_PAGE+1, ...`; stops at the first empty page.
 * - `cursor`: SOURCE_URL, then SOURCE_URL with `CURSOR_PARAM=<cursor>`, the cursor read at
 *   CURSOR_FIELD of each body (a non-empty string or a number); stops when it is absent, null or "".
 * - `link`: SOURCE_URL, then the `Link: <...>; rel="next"` target (RFC 8288, resolved against the
 *   page's URL); stops when there is none. The target must have SOURCE_URL's origin, so the
 *   credential is never sent elsewhere.
 * A next URL seen before in the run fails it (a paging loop).
 */
import { PagingStyle, type PollerConfig } from './config';
import { MalformedResponseError, readPath, describePath } from './items';

export type PagingConfig = Pick<PollerConfig, 'sourceUrl' | 'pagingStyle' | 'pageParam' | 'firstPage' | 'cursorParam' | 'cursorField'>;

export interface PageResult {
  /** The URL the page was fetched from. */
  readonly url: string;
  readonly body: unknown;
  readonly items: readonly unknown[];
  readonly headers: Headers;
}

/** URL of the first page. */
export function firstPageUrl(config: PagingConfig): string {
  if (config.pagingStyle !== PagingStyle.Page) return config.sourceUrl;
  return withQueryParam(config.sourceUrl, config.pageParam, String(config.firstPage));
}

export function withQueryParam(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
}

const MAX_CURSOR_LENGTH = 2048;

/** URL of the next page, or `undefined` when `page` was the last one. */
export function nextPageUrl(config: PagingConfig, page: PageResult, pageNumber: number): string | undefined {
  switch (config.pagingStyle) {
    case PagingStyle.None:
      return undefined;
    case PagingStyle.Page:
      return page.items.length === 0 ? undefined : withQueryParam(config.sourceUrl, config.pageParam, String(config.firstPage + pageNumber));
    case PagingStyle.Cursor: {
      const found = readPath(page.body, config.cursorField);
      if (!found.found || found.value === null || found.value === '') return undefined;
      const cursor = found.value;
      if (typeof cursor === 'number' ? !Number.isFinite(cursor) : typeof cursor !== 'string') {
        throw new MalformedResponseError(`The cursor at ${describePath(config.cursorField)} is not a string or number`);
      }
      const text = String(cursor);
      if (text.length > MAX_CURSOR_LENGTH) throw new MalformedResponseError(`The cursor at ${describePath(config.cursorField)} is longer than ${MAX_CURSOR_LENGTH} characters`);
      return withQueryParam(config.sourceUrl, config.cursorParam, text);
    }
    case PagingStyle.Link: {
      const target = nextLink(page.headers.get('link'));
      if (target === undefined) return undefined;
      let resolved: URL;
      try {
        resolved = new URL(target, page.url);
      } catch {
        throw new MalformedResponseError('The Link rel="next" target is not a valid URL');
      }
      if (resolved.origin !== new URL(config.sourceUrl).origin) {
        throw new MalformedResponseError(`The Link rel="next" target is on another origin (${resolved.origin}); only ${new URL(config.sourceUrl).origin} is followed`);
      }
      resolved.hash = '';
      return resolved.href;
    }
  }
}

/**
 * The target of the first link with relation type `next` in a `Link` header value (RFC 8288:
 * comma separated `<uri-reference>; param=value; rel="next prev"`), or `undefined`.
 * Commas inside `<...>` and quoted strings are not separators. Never throws.
 */
export function nextLink(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined || header.length > 16_384) return undefined;
  for (const link of splitLinks(header)) {
    const m = /^\s*<([^>]*)>(.*)$/s.exec(link);
    if (!m) continue;
    const rels = linkParams(m[2]).get('rel');
    if (rels !== undefined && rels.toLowerCase().split(/\s+/).includes('next')) return m[1].trim();
  }
  return undefined;
}

function splitLinks(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inUri = false;
  let inQuotes = false;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i];
    if (inQuotes) {
      if (ch === '\\') {
        current += ch + (header[i + 1] ?? '');
        i++;
        continue;
      }
      if (ch === '"') inQuotes = false;
    } else if (inUri) {
      if (ch === '>') inUri = false;
    } else if (ch === '<') {
      inUri = true;
    } else if (ch === '"') {
      inQuotes = true;
    } else if (ch === ',') {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

/** `; a=b; rel="next"` -> Map (first occurrence of each name wins, names lower-cased). */
function linkParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s"]*)))?\s*/gs;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const name = m[1].toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/gs, '$1') : m[3] ?? '';
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}
