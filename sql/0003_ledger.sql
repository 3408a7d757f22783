-- Ledger: the embedded chain (append-only blocks signed by the ledger key), the account balances
-- and reputations it yields, and the record of which receipts were paid. Written only by
-- dcloud-ledger; the scheduler reads ledger.accounts (id, balance, reputation).
CREATE SCHEMA ledger;

CREATE TABLE ledger.blocks (
  height         bigint PRIMARY KEY CHECK (height >= 0),
  prev_hash      text NOT NULL,
  created_at_ms  bigint NOT NULL,
  payload        text NOT NULL,            -- canonical JSON of the transactions, the hashed bytes
  tx_count       integer NOT NULL CHECK (tx_count >= 0),
  hash           text NOT NULL UNIQUE,     -- hex sha256 of the canonical header
  signer         text NOT NULL,            -- ledger key id
  signature      text NOT NULL,            -- ed25519 over hash
  inserted_at    timestamptz NOT NULL DEFAULT now()
);

-- Balances and reputations in micro-credits; kept in the same transaction as each block append.
-- A balance may go negative only through a settled receipt (see ledger-adapter/README.md).
CREATE TABLE ledger.accounts (
  id          text PRIMARY KEY,
  balance     bigint NOT NULL DEFAULT 0,
  reputation  bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per paid receipt: settling a receipt again (even after its outbox row is reset) pays
-- nothing more.
CREATE TABLE ledger.settlements (
  receipt_id    uuid PRIMARY KEY,
  block_height  bigint NOT NULL REFERENCES ledger.blocks (height),
  settled_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settlements_block ON ledger.settlements (block_height);

-- Outbox rows the adapter refused to pay (bad signature, receipt not matching the row, ...).
-- They are skipped by later batches; delete the row here to retry one.
CREATE TABLE ledger.settlement_failures (
  outbox_id   bigint PRIMARY KEY,
  receipt_id  uuid NOT NULL,
  error       text NOT NULL,
  failed_at   timestamptz NOT NULL DEFAULT now()
);
