-- Storage gateway: the additional checksum a client sent with an object (x-amz-checksum-* header
-- or trailer), verified on upload and returned with x-amz-checksum-mode: ENABLED. NULL when the
-- client sent none. checksum_value is base64 of the big-endian digest, as S3 writes it.
ALTER TABLE gateway.objects
  ADD COLUMN checksum_algorithm text CHECK (checksum_algorithm IN
    ('CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256')),
  ADD COLUMN checksum_value text,
  ADD CONSTRAINT objects_checksum_pair CHECK ((checksum_algorithm IS NULL) = (checksum_value IS NULL));
