-- Storage gateway: buckets, object metadata and S3 access keys. An object exists once its row is
-- committed; its bytes live in the gateway's object store under data_id. Keys and bucket names
-- sort in byte order (COLLATE "C"), which is the order S3 lists them in.
CREATE SCHEMA gateway;

CREATE TABLE gateway.buckets (
  name        text COLLATE "C" PRIMARY KEY,
  owner       text NOT NULL,                 -- principal id
  created_at  timestamptz NOT NULL
);
CREATE INDEX buckets_owner ON gateway.buckets (owner, name);

CREATE TABLE gateway.objects (
  bucket         text COLLATE "C" NOT NULL REFERENCES gateway.buckets (name) ON DELETE RESTRICT,
  key            text COLLATE "C" NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 1024),
  size           bigint NOT NULL CHECK (size >= 0),
  etag           text NOT NULL,              -- md5 hex of the body
  content_type   text NOT NULL,
  user_metadata  jsonb NOT NULL DEFAULT '{}',
  data_id        text NOT NULL,              -- where the object store keeps the bytes
  last_modified  timestamptz NOT NULL,
  PRIMARY KEY (bucket, key)
);

-- S3 access keys. The secret is sealed with the gateway master key (libsodium secretbox):
-- base64(nonce || box). scope NULL means the full rights of the principal, otherwise
-- {"bucket": ..., "grants": [{"access": "read"|"write", "prefix": ...}]}.
CREATE TABLE gateway.access_keys (
  access_key     text PRIMARY KEY,
  secret_sealed  text NOT NULL,
  principal      text NOT NULL,
  display_name   text NOT NULL DEFAULT '',
  scope          jsonb,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz,
  revoked        boolean NOT NULL DEFAULT false
);
CREATE INDEX access_keys_principal ON gateway.access_keys (principal);

-- Multipart uploads in progress. Parts are stored like objects (data_id in the object store) and
-- concatenated into one object on completion, which deletes these rows in the object's commit.
CREATE TABLE gateway.multipart_uploads (
  upload_id      text PRIMARY KEY,
  bucket         text COLLATE "C" NOT NULL REFERENCES gateway.buckets (name) ON DELETE RESTRICT,
  key            text COLLATE "C" NOT NULL,
  principal      text NOT NULL,              -- who started it; only they may continue it
  content_type   text NOT NULL,
  user_metadata  jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL
);
CREATE INDEX multipart_uploads_bucket ON gateway.multipart_uploads (bucket, key);

CREATE TABLE gateway.multipart_parts (
  upload_id    text NOT NULL REFERENCES gateway.multipart_uploads (upload_id) ON DELETE CASCADE,
  part_number  integer NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
  size         bigint NOT NULL CHECK (size >= 0),
  etag         text NOT NULL,                -- md5 hex of the part
  data_id      text NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
