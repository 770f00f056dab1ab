/**
 * The items API (`RestfulMicroservice`'s reference handler behind CloudFront's `/api/*`): every
 * call carries the access token; a 401 gets one renewal (refresh token) and one retry. Failures
 * become typed errors the UI can explain: `SessionExpiredError`, `ApiError` (with the API's
 * `{ error, message, requestId, details }` body when it sent one) and `NetworkError`.
 */

/** The fields the user edits (`WEB_APP_ITEM_SCHEMA`). */
export interface ItemFields {
  readonly title: string;
  readonly notes?: string;
  readonly done?: boolean;
}

/** An item as the API returns it. */
export interface Item extends ItemFields {
  readonly id: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ItemPage {
  readonly items: Item[];
  readonly nextToken?: string;
}

/** An item with the ETag to send as `If-Match` when changing it. */
export interface VersionedItem {
  readonly item: Item;
  readonly etag: string;
}

export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export class ApiError extends Error {
  readonly status: number;
  /** The API's error code (`ValidationError`, `PreconditionFailed`, ...); API Gateway's own answers have none. */
  readonly code?: string;
  readonly details: readonly ErrorDetail[];
  readonly requestId?: string;

  constructor(status: number, message: string, options: { code?: string; details?: readonly ErrorDetail[]; requestId?: string } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = options.code;
    this.details = options.details ?? [];
    this.requestId = options.requestId;
  }

  /** Worth retrying as is: the service or a dependency was unavailable (5xx) or throttled (429). */
  get transient(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The request never got an answer (offline, DNS, connection reset). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('The request did not reach the service', { cause });
    this.name = 'NetworkError';
  }
}

/** The access token was refused and could not be renewed: the user must sign in again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your session has expired');
    this.name = 'SessionExpiredError';
  }
}

/** What the API client needs from sign-in. */
export interface TokenSource {
  /** The current access token, renewed first when it has expired; `undefined` when signed out. */
  accessToken(): Promise<string | undefined>;
  /** A fresh access token after the API refused the current one; `undefined` when renewal failed. */
  renewAccessToken(): Promise<string | undefined>;
}

export const PAGE_SIZE = 20;

interface RequestOptions {
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export class ItemsApi {
  private readonly collectionUrl: string;
  private readonly tokens: TokenSource;

  constructor(apiBasePath: string, resourceName: string, tokens: TokenSource) {
    this.collectionUrl = `${apiBasePath.replace(/\/+$/, '')}/${encodeURIComponent(resourceName)}`;
    this.tokens = tokens;
  }

  async list(nextToken?: string): Promise<ItemPage> {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (nextToken !== undefined) query.set('nextToken', nextToken);
    const response = await this.send('GET', `${this.collectionUrl}?${query}`);
    const body = (await response.json()) as ItemPage;
    return { items: body.items, ...(body.nextToken !== undefined ? { nextToken: body.nextToken } : {}) };
  }

  async get(id: string): Promise<VersionedItem> {
    return this.versioned(await this.send('GET', this.itemUrl(id)));
  }

  /**
   * Creates an item. `idempotencyKey` identifies this submission: a retry with the same key and
   * fields never creates a second item (the API replays the first answer).
   */
  async create(fields: ItemFields, idempotencyKey: string): Promise<VersionedItem> {
    return this.versioned(await this.send('POST', this.collectionUrl, { body: fields, headers: { 'idempotency-key': idempotencyKey } }));
  }

  /** Replaces the fields if the item is still at `etag` (else 412). */
  async replace(id: string, fields: ItemFields, etag: string): Promise<VersionedItem> {
    return this.versioned(await this.send('PUT', this.itemUrl(id), { body: fields, headers: { 'if-match': etag } }));
  }

  /** Deletes the item if it is still at `etag` (else 412). */
  async delete(id: string, etag: string): Promise<void> {
    await this.send('DELETE', this.itemUrl(id), { headers: { 'if-match': etag } });
  }

  private itemUrl(id: string): string {
    return `${this.collectionUrl}/${encodeURIComponent(id)}`;
  }

  private async versioned(response: Response): Promise<VersionedItem> {
    const item = (await response.json()) as Item;
    return { item, etag: response.headers.get('etag') ?? etagOf(item) };
  }

  /** One request; on 401 one renewal and one retry; any other non-2xx becomes an `ApiError`. */
  private async send(method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    let token = await this.tokens.accessToken();
    if (token === undefined) throw new SessionExpiredError();
    let response = await this.fetchOnce(method, url, token, options);
    if (response.status === 401) {
      token = await this.tokens.renewAccessToken();
      if (token === undefined) throw new SessionExpiredError();
      response = await this.fetchOnce(method, url, token, options);
      if (response.status === 401) throw new SessionExpiredError();
    }
    if (!response.ok) throw await apiError(response);
    return response;
  }

  private async fetchOnce(method: string, url: string, token: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}`, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (cause) {
      throw new NetworkError(cause);
    }
  }
}

/** The documented ETag of an item version (`"<version>"`, lib/rest-api/README.md), for items that came in a list. */
export function etagOf(item: Item): string {
  return `"${item.version}"`;
}

async function apiError(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = await response.json();
    if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const message = typeof body.message === 'string' && body.message !== '' ? body.message : response.statusText || `HTTP ${response.status}`;
  const details = Array.isArray(body.details)
    ? body.details.filter((d): d is ErrorDetail => d !== null && typeof d === 'object' && typeof d.path === 'string' && typeof d.message === 'string')
    : [];
  return new ApiError(response.status, message, {
    code: typeof body.error === 'string' ? body.error : undefined,
    details,
    requestId: typeof body.requestId === 'string' ? body.requestId : undefined,
  });
}
