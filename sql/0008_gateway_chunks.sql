-- Storage gateway: chunked, encrypted object data. An object's data_id names a blob: an ordered
-- list of chunks (its manifest). A chunk is a file under DATA_DIR/chunks/<ab>/<name>, named by a
-- keyed hash of its plaintext (per-bucket key) and encrypted with the bucket's data key; equal
-- chunks of one bucket are stored once. Chunks no blob references and blobs nothing references are
-- removed by the gateway's garbage collector (storage-gateway/chunk_gc.h explains the protocol).

-- One data key per bucket name, sealed with the gateway master key (MasterKey::seal). Kept when the
-- bucket is deleted: a bucket re-created under the same name reuses it.
CREATE TABLE gateway.bucket_keys (
  bucket      text COLLATE "C" PRIMARY KEY,
  sealed_key  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gateway.chunks (
  name        text PRIMARY KEY,            -- hex keyed BLAKE2b of the plaintext
  bucket      text COLLATE "C" NOT NULL,   -- '' for a file adopted by the disk sweep
  size        integer NOT NULL CHECK (size >= 0),
  touched_ms  bigint NOT NULL              -- last time a writer stored or reused it (GC grace)
);

CREATE TABLE gateway.blobs (
  blob_id     text PRIMARY KEY,
  bucket      text COLLATE "C" NOT NULL,
  size        bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
  complete    boolean NOT NULL DEFAULT false,  -- set by the writer's finish()
  touched_ms  bigint NOT NULL,                 -- last write; protects it until its commit
  deleted_ms  bigint                           -- removed; kept for in-flight reads until GC
);
CREATE INDEX blobs_gc ON gateway.blobs (touched_ms);

-- A blob's manifest: chunk `chunk` holds the blob's bytes [offset, offset + size). The foreign key
-- makes a reference and the collection of its chunk exclude each other (KEY SHARE vs. FOR UPDATE).
CREATE TABLE gateway.blob_chunks (
  blob_id  text NOT NULL REFERENCES gateway.blobs (blob_id) ON DELETE CASCADE,
  "offset" bigint NOT NULL CHECK ("offset" >= 0),
  chunk    text NOT NULL REFERENCES gateway.chunks (name),
  size     integer NOT NULL CHECK (size > 0),
  PRIMARY KEY (blob_id, "offset")
);
CREATE INDEX blob_chunks_chunk ON gateway.blob_chunks (chunk);

-- The collector looks blobs up by the rows that reference them.
CREATE INDEX objects_data_id ON gateway.objects (data_id);
CREATE INDEX object_versions_data_id ON gateway.object_versions (data_id);
CREATE INDEX multipart_parts_data_id ON gateway.multipart_parts (data_id);
