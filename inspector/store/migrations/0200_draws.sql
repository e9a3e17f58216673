-- 双随机 draws: the published record of each draw (seed, directory snapshot hashes, parameters,
-- result). A draw is never edited once stored; its tasks live in the core `tasks` table.
CREATE TABLE draws (
  id TEXT PRIMARY KEY,
  seed TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  params TEXT NOT NULL,                     -- JSON
  institutions_sha256 TEXT NOT NULL,
  inspectors_sha256 TEXT NOT NULL,
  result_sha256 TEXT NOT NULL,
  record TEXT NOT NULL,                     -- JSON: the full record as published
  due_days INTEGER,
  actor TEXT,
  created_at TEXT NOT NULL
);
CREATE TRIGGER draws_immutable BEFORE UPDATE ON draws
BEGIN SELECT RAISE(ABORT, 'draws are immutable'); END;

CREATE INDEX tasks_draw ON tasks(draw_id);
CREATE INDEX inspectors_county ON inspectors(county);
CREATE INDEX institutions_kind_county ON institutions(kind, county);
