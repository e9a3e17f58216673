-- Signed checkpoints of the audit chain: (seq, hash) signed with the device's Ed25519 key at
-- every finish and every 256 entries, so an edit of the log followed by recomputed hashes no
-- longer verifies on the laptop itself (inspector/store/integrity.py).
CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,                  -- base64 Ed25519 over "inspector-audit:<seq>:<hash>"
  at TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
-- entries before this migration have no checkpoints (nothing to check them against)
INSERT OR REPLACE INTO meta (key, value) SELECT 'checkpoints_since', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM audit_log;
