-- Items of every resource, one row each: the relational twin of the REST pattern's DynamoDB
-- layout. (resource, id) is the key, so several resource names can share the table, and the
-- primary key index serves the keyset pagination (WHERE resource = $1 AND id > $2 ORDER BY id).
-- `data` holds the client fields verbatim as jsonb; `request_hash` is the Idempotency-Key record
-- of the creating request (the item id is derived from the key).
CREATE TABLE items (
  resource     text        NOT NULL CHECK (resource ~ '^[a-z][a-z0-9-]{0,62}$'),
  id           uuid        NOT NULL,
  version      bigint      NOT NULL CHECK (version >= 1),
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  data         jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
  request_hash text,
  PRIMARY KEY (resource, id)
);
