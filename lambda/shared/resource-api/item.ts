/**
 * A resource item as every back end stores it, and its API representation.
 *
 * Stored: `{ id, version, createdAt, updatedAt, data: {...}, requestHash? }` (client fields live
 * under `data`, so no client key collides with a system field; each back end adds its own keys).
 * API:    `{ id, version, createdAt, updatedAt, ...data }`.
 */
import { BadRequestError } from '../http-errors';

export const SERVER_OWNED_FIELDS = ['id', 'version', 'createdAt', 'updatedAt'] as const;

export interface ItemRecord {
  /** Canonical lower case UUID. */
  readonly id: string;
  /** 1 on create, +1 per replacement; the ETag. */
  readonly version: number;
  /** ISO 8601 timestamps with milliseconds, from the service's clock. */
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
export function toRepresentation(item: ItemRecord): ItemRepresentation {
  const data = item.data !== null && typeof item.data === 'object' && !Array.isArray(item.data) ? item.data : {};
  const representation: Record<string, unknown> = {
    id: item.id,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  for (const [key, value] of Object.entries(data)) {
    // Own data property even for a key such as "__proto__"; never overrides a system field.
    if (!Object.prototype.hasOwnProperty.call(representation, key)) {
      Object.defineProperty(representation, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return representation as ItemRepresentation;
}
