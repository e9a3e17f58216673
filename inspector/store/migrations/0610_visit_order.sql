-- The order of the visit (issue 11 item 6): record → preview of the 笔录 → the person in charge
-- reads it page by page → signs or refuses (reason, witness) → inspectors sign → finish.
-- A reading is one rendered preview of the record's content (content_sha256 excludes signatures);
-- each page shown on screen is a row. A signature is bound to the content it was given for.
CREATE TABLE record_readings (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  document_id TEXT,
  content_sha256 TEXT NOT NULL,
  pdf_sha256 TEXT,
  pages INTEGER NOT NULL,
  medium TEXT NOT NULL DEFAULT 'screen',     -- screen | paper (a printed draft handed over)
  created_at TEXT NOT NULL
);
CREATE INDEX record_readings_inspection ON record_readings(inspection_id, created_at);
CREATE TABLE record_page_views (
  reading_id TEXT NOT NULL REFERENCES record_readings(id),
  page INTEGER NOT NULL,                       -- 1-based
  shown_at TEXT NOT NULL,
  PRIMARY KEY (reading_id, page)
);
CREATE TABLE signature_bindings (
  signature_id TEXT PRIMARY KEY,               -- signatures(id); no FK: a binding is history
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  role TEXT NOT NULL,
  reading_id TEXT,
  content_sha256 TEXT NOT NULL,
  capacity TEXT,                               -- e.g. 被检查单位现场负责人 王某（校长）
  created_at TEXT NOT NULL
);
-- a signature withdrawn because the record changed after it was given (the row itself stays, sealed)
CREATE TABLE signature_voids (
  signature_id TEXT PRIMARY KEY,               -- signatures(id); no FK: a binding is history
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL
);
