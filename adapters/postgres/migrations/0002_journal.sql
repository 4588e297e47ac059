-- journal holds the ledger's journal records, one row per record, LSN 1, 2, 3, ... without
-- gaps (see engine/journal/pgjournal). Rows covered by a snapshot are deleted, except the last
-- row, which is always kept so that the next LSN survives a restart.
CREATE TABLE journal (
    lsn bigint PRIMARY KEY CHECK (lsn > 0),
    rec bytea  NOT NULL
);

-- journal_snapshot holds the newest ledger snapshots: data is the state after applying every
-- record through lsn; crc32c (Castagnoli) of data is checked when it is loaded.
CREATE TABLE journal_snapshot (
    lsn        bigint      PRIMARY KEY CHECK (lsn >= 0),
    data       bytea       NOT NULL,
    crc32c     bigint      NOT NULL CHECK (crc32c BETWEEN 0 AND 4294967295),
    created_at timestamptz NOT NULL DEFAULT now()
);
