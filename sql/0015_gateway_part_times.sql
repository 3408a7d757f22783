-- Storage gateway: when each multipart part was last uploaded (ListParts' LastModified; S3 clients
-- that resume an upload compare it). Parts uploaded before this migration have none and report
-- their upload's start, as before.
ALTER TABLE gateway.multipart_parts ADD COLUMN uploaded_at timestamptz;
