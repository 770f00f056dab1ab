-- Tombstones of deleted items created with an Idempotency-Key: the row stays, with its data
-- emptied, `deleted_at` set, and `key_expires_at` until which a retry of the creating POST is
-- answered 410 instead of creating the item again (IDEMPOTENCY_KEY_RETENTION_SECONDS). The
-- handler reads and changes only rows without `deleted_at`, and an insert replaces a tombstone
-- whose key has expired. Both are NULL on every other row, and on every row that existed before.
ALTER TABLE items
  ADD COLUMN deleted_at timestamptz,
  ADD COLUMN key_expires_at timestamptz,
  ADD CONSTRAINT items_tombstone_check CHECK ((deleted_at IS NULL) = (key_expires_at IS NULL));
