-- Storage gateway: small chunks live in their row. A chunk of at most 64 KiB of plaintext
-- (storage-gateway/chunk_layout.h, kInlineChunkBytes) is stored as `sealed`, the exact bytes its
-- chunk file would hold ("DCC1" || nonce || XChaCha20-Poly1305 ciphertext || tag), instead of a
-- file: a small PUT then costs one WAL flush instead of a file, its fsync and its directory's
-- fsync, and a small GET one query instead of a query, an open and a read. Chunks written as
-- files before keep working (a NULL `sealed` means: read the file); collecting a row collects
-- its inline bytes with it. EXTERNAL: sealed bytes do not compress, so PostgreSQL should not try.
ALTER TABLE gateway.chunks ADD COLUMN sealed bytea;
ALTER TABLE gateway.chunks ALTER COLUMN sealed SET STORAGE EXTERNAL;
