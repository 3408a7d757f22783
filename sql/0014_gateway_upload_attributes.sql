-- Storage gateway: what CreateMultipartUpload asked of the object it will become (tags, canned
-- ACL, an Object Lock retention and legal hold), kept with the upload and given to the object when
-- the upload completes, as a single PUT gives them to its object. Columns as in
-- gateway.version_attributes. An upload with no lock mode of its own takes the bucket's default
-- retention at completion, counted from then.
ALTER TABLE gateway.multipart_uploads
  ADD COLUMN lock_mode text NOT NULL DEFAULT ''
    CHECK (lock_mode IN ('', 'GOVERNANCE', 'COMPLIANCE')),
  ADD COLUMN retain_until_ms bigint NOT NULL DEFAULT 0,
  ADD COLUMN legal_hold boolean NOT NULL DEFAULT false,
  ADD COLUMN tags jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN acl text NOT NULL DEFAULT '';
