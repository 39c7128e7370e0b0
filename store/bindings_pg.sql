-- SPDX-License-Identifier: MPL-2.0
-- kea-bsdp: the NetBoot selections and machine numbers that several
-- kea-dhcp4 servers share (hook parameter "bindings-database").
--
-- libdhcp_bsdp.so runs this itself only when a table or index is missing
-- (its user then needs CREATE on the database's schema); a DBA may run it
-- instead, and grant the servers' role only what docs/bindings.md lists:
--   psql -d kea -f bindings_pg.sql
-- Every statement is idempotent.

-- One row per Mac, for the max-bindings most recently selected Macs (the
-- servers remove older rows). bsdp-binding-del leaves a row with deleted =
-- true and selected_at just after the selection, so the other servers see
-- the deletion too.
CREATE TABLE IF NOT EXISTS bsdp_bindings (
    hw_address     text PRIMARY KEY
                   CHECK (hw_address ~ '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'),
    -- the selected image's id, 0 once the Mac selected another server
    image_id       bigint NOT NULL CHECK (image_id BETWEEN 0 AND 4294967295),
    -- seconds since the epoch of the last SELECT (of a deletion: just after
    -- the selection deleted); the latest one wins, a write over a deletion
    -- of the same time, a selection over a forget (image_id 0) of its time
    selected_at    bigint NOT NULL,
    -- the Mac's machine number (its name, e.g. NetBoot042): unique
    machine_number bigint NOT NULL UNIQUE
                   CHECK (machine_number BETWEEN 1 AND 4294967295),
    deleted        boolean NOT NULL DEFAULT false,
    -- the server process that wrote the row last (it skips its own rows)
    changed_by     text NOT NULL,
    -- the transaction that wrote it: a server reads the rows of every
    -- transaction that may not have committed when it last read
    written_by_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX IF NOT EXISTS bsdp_bindings_by_xid ON bsdp_bindings (written_by_xid, hw_address);
-- The database keeps the max-bindings most recently selected Macs: each
-- server finds the oldest row to keep, and removes older ones in batches,
-- through this index.
CREATE INDEX IF NOT EXISTS bsdp_bindings_by_time ON bsdp_bindings (selected_at, hw_address);
-- Block k holds machine numbers (k - 1) * 64 + 1 .. k * 64: each server
-- takes whole blocks, so two servers never hand out the same number.
CREATE SEQUENCE IF NOT EXISTS bsdp_machine_number_block;
-- Numbers of a block that a server did not hand out before it stopped:
-- the next server to need numbers takes these first.
CREATE TABLE IF NOT EXISTS bsdp_machine_number_free (
    first bigint PRIMARY KEY CHECK (first BETWEEN 1 AND 4294967295),
    count bigint NOT NULL CHECK (count BETWEEN 1 AND 64)
);
