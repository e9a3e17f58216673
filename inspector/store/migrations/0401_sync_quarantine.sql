-- Pulled records that could not be applied here (a broken reference, a value this laptop's
-- schema refuses). Kept with the reason; the cursor moves on; retried at every pull until
-- they apply or a newer change for the same record replaces them.
CREATE TABLE sync_quarantine (
  change_seq INTEGER PRIMARY KEY,
  entity TEXT NOT NULL,
  entity_id TEXT,
  data TEXT NOT NULL,
  error TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX sync_quarantine_entity ON sync_quarantine(entity, entity_id);
