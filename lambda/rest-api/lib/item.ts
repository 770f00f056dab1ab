/**
 * Storage layout of one resource item and its API representation.
 *
 * Stored: `{ pk: <resource name>, sk: <id>, id, version, createdAt, updatedAt, data: {...}, requestHash? }`
 * (client fields live under `data`, so no client key collides with key or system attributes).
 * API:    `{ id, version, createdAt, updatedAt, ...data }`.
 */
import { BadRequestError } from '../../shared/http-errors';

export const SERVER_OWNED_FIELDS = ['id', 'version', 'createdAt', 'updatedAt'] as const;

export interface StoredItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly data: Record<string, unknown>;
  /** Hash of the creating request's fields when it carried an Idempotency-Key. */
  readonly requestHash?: string;
}

export interface ItemRepresentation {
  readonly id: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly [field: string]: unknown;
}

/** Rejects a body that sets a server-owned field (400 naming the fields). */
export function assertNoServerOwnedFields(body: Record<string, unknown>): void {
  const given = SERVER_OWNED_FIELDS.filter((f) => Object.prototype.hasOwnProperty.call(body, f));
  if (given.length > 0) {
    throw new BadRequestError(`The field${given.length > 1 ? 's' : ''} ${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} set by the server and must not be sent`, {
      details: given.map((f) => ({ path: `/${f}`, message: 'is set by the server' })),
    });
  }
}

/** Flattens a stored item into its API representation. */
export function toRepresentation(item: Record<string, unknown>): ItemRepresentation {
  const stored = item as unknown as StoredItem;
  const data = stored.data !== null && typeof stored.data === 'object' && !Array.isArray(stored.data) ? stored.data : {};
  const representation: Record<string, unknown> = {
    id: stored.id,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
  for (const [key, value] of Object.entries(data)) {
    // Own data property even for a key such as "__proto__"; never overrides a system field.
    if (!Object.prototype.hasOwnProperty.call(representation, key)) {
      Object.defineProperty(representation, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return representation as ItemRepresentation;
}
