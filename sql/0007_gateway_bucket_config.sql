-- Storage gateway: bucket configuration (object lock, canned ACL, lifecycle, CORS, tags) and the
-- attributes of single object versions (retention, legal hold, tags, canned ACL).
--
-- A bucket's configurations are documents, one row per kind; object lock is enabled on a bucket
-- exactly when it has an 'object-lock' document (it holds the default retention, if any).
CREATE TABLE gateway.bucket_documents (
  bucket  text COLLATE "C" NOT NULL REFERENCES gateway.buckets (name) ON DELETE CASCADE,
  kind    text NOT NULL CHECK (kind IN ('object-lock', 'acl', 'lifecycle', 'cors', 'tagging')),
  body    text NOT NULL,
  PRIMARY KEY (bucket, kind)
);
CREATE INDEX bucket_documents_kind ON gateway.bucket_documents (kind);

-- Attributes of one version (gateway.objects or gateway.object_versions, same bucket/key/
-- version_id). A version without a row has no retention, no legal hold, no tags and the private
-- ACL. Times are milliseconds on the gateway's (injectable) clock.
CREATE TABLE gateway.version_attributes (
  bucket           text COLLATE "C" NOT NULL REFERENCES gateway.buckets (name) ON DELETE CASCADE,
  key              text COLLATE "C" NOT NULL,
  version_id       text NOT NULL,
  lock_mode        text NOT NULL DEFAULT '' CHECK (lock_mode IN ('', 'GOVERNANCE', 'COMPLIANCE')),
  retain_until_ms  bigint NOT NULL DEFAULT 0,
  legal_hold       boolean NOT NULL DEFAULT false,
  tags             jsonb NOT NULL DEFAULT '[]',
  acl              text NOT NULL DEFAULT '',
  PRIMARY KEY (bucket, key, version_id)
);

-- A version's attributes go with the version: when its row leaves gateway.objects or
-- gateway.object_versions and it is in neither table afterwards (moving between the two keeps
-- them). Whether a removal is allowed at all is checked before, under the key's lock.
CREATE FUNCTION gateway.drop_version_attributes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM gateway.version_attributes a WHERE a.bucket = OLD.bucket
             AND a.key = OLD.key AND a.version_id = OLD.version_id)
     AND NOT EXISTS (SELECT 1 FROM gateway.objects o WHERE o.bucket = OLD.bucket
                     AND o.key = OLD.key AND o.version_id = OLD.version_id)
     AND NOT EXISTS (SELECT 1 FROM gateway.object_versions v WHERE v.bucket = OLD.bucket
                     AND v.key = OLD.key AND v.version_id = OLD.version_id) THEN
    DELETE FROM gateway.version_attributes a WHERE a.bucket = OLD.bucket AND a.key = OLD.key
      AND a.version_id = OLD.version_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER objects_drop_attributes AFTER DELETE ON gateway.objects
  FOR EACH ROW EXECUTE FUNCTION gateway.drop_version_attributes();
CREATE TRIGGER object_versions_drop_attributes AFTER DELETE ON gateway.object_versions
  FOR EACH ROW EXECUTE FUNCTION gateway.drop_version_attributes();
