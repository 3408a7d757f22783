-- Storage gateway: bucket versioning. gateway.objects keeps holding exactly the current,
-- non-deleted version of each key (so listings read it as before); every other version and
-- every delete marker lives in gateway.object_versions. A key's versions are ordered by seq
-- (one sequence for both tables, newest highest). Unversioned buckets and versions written while
-- versioning is suspended have version_id 'null', as S3 names them.
ALTER TABLE gateway.buckets
  ADD COLUMN versioning text NOT NULL DEFAULT ''
    CHECK (versioning IN ('', 'Enabled', 'Suspended'));

CREATE SEQUENCE gateway.version_seq;

ALTER TABLE gateway.objects
  ADD COLUMN version_id text NOT NULL DEFAULT 'null',
  ADD COLUMN seq bigint NOT NULL DEFAULT nextval('gateway.version_seq');

CREATE TABLE gateway.object_versions (
  bucket         text COLLATE "C" NOT NULL REFERENCES gateway.buckets (name) ON DELETE RESTRICT,
  key            text COLLATE "C" NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 1024),
  version_id     text NOT NULL,
  seq            bigint NOT NULL,
  delete_marker  boolean NOT NULL,
  size           bigint NOT NULL CHECK (size >= 0),
  etag           text NOT NULL,              -- '' for delete markers
  content_type   text NOT NULL,
  user_metadata  jsonb NOT NULL DEFAULT '{}',
  data_id        text,                       -- NULL for delete markers
  last_modified  timestamptz NOT NULL,
  checksum_algorithm text,
  checksum_value text,
  PRIMARY KEY (bucket, key, version_id),
  CHECK (delete_marker = (data_id IS NULL))
);
CREATE INDEX object_versions_order ON gateway.object_versions (bucket, key, seq DESC);
