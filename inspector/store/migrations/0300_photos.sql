-- Photo evidence. The pixels live in the blob store (blobs/ab/cd/<sha256>); a row
-- ties the original's sha256 to an inspection, optionally a checklist item and a finding.
-- Captions are metadata drawn by the documents, never burnt into the image.

CREATE TABLE photos (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  item_id TEXT,                                  -- checklist item, NULL = general photo
  checklist_version_id TEXT,                     -- which checklist the item is from (optional)
  finding_id TEXT REFERENCES findings(id) ON DELETE SET NULL,
  sha256 TEXT NOT NULL,                          -- the original file, byte for byte
  display_sha256 TEXT NOT NULL,                  -- upright JPEG, long side <= evidence.DISPLAY_MAX (2000)
  thumb_sha256 TEXT NOT NULL,                    -- upright JPEG, long side <= 320
  mime TEXT NOT NULL,
  size INTEGER,                                  -- bytes of the original
  width INTEGER NOT NULL,                        -- upright (EXIF orientation applied)
  height INTEGER NOT NULL,
  taken_at TEXT,                                 -- EXIF DateTimeOriginal (camera clock)
  gps_lat REAL,                                  -- WGS-84 decimal degrees from EXIF
  gps_lon REAL,
  original_name TEXT,
  caption TEXT,
  inspector_id TEXT,
  position INTEGER NOT NULL DEFAULT 0,           -- order within inspection + item
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- The same picture attached twice to the same inspection and item is one row.
CREATE UNIQUE INDEX photos_dedupe ON photos(inspection_id, ifnull(item_id, ''), sha256);
CREATE INDEX photos_inspection ON photos(inspection_id, item_id, position);
CREATE INDEX photos_finding ON photos(finding_id) WHERE finding_id IS NOT NULL;
CREATE INDEX photos_sha ON photos(sha256);

-- A finished inspection is locked (as answers and findings are in 0002_locks.sql).
CREATE TRIGGER photos_locked_insert BEFORE INSERT ON photos
WHEN (SELECT status FROM inspections WHERE id = NEW.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER photos_locked_update BEFORE UPDATE ON photos
WHEN (SELECT status FROM inspections WHERE id = OLD.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER photos_locked_delete BEFORE DELETE ON photos
WHEN (SELECT status FROM inspections WHERE id = OLD.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
