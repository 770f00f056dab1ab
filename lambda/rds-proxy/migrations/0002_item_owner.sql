-- Items per caller (ITEM_OWNER_CLAIM): `owner` is the authorizer claim's value of the caller who
-- created the item; '' is "no owner" (one collection shared by every caller, and every row that
-- existed before this migration). The handler never accepts '' as a caller's identity, and
-- rejects longer values and control characters (401) before the database sees them.
-- The key becomes (resource, owner, id): the same id may exist once per caller (an id derived from
-- an Idempotency-Key depends only on the resource and the key), and the primary key index serves
-- the keyset pagination of one caller's collection (WHERE resource = $1 AND owner = $2 AND id > $3 ORDER BY id).
ALTER TABLE items
  ADD COLUMN owner text NOT NULL DEFAULT ''
    CONSTRAINT items_owner_check CHECK (char_length(owner) <= 256 AND owner !~ '[\u0001-\u001f\u007f]'),
  DROP CONSTRAINT items_pkey,
  ADD CONSTRAINT items_pkey PRIMARY KEY (resource, owner, id);
