-- A finished inspection is locked: its answers and findings can no longer change
-- (an amendment is a new revision). Enforced here so no code path can forget it.
CREATE TRIGGER answers_locked_insert BEFORE INSERT ON answers
WHEN (SELECT status FROM inspections WHERE id = NEW.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER answers_locked_update BEFORE UPDATE ON answers
WHEN (SELECT status FROM inspections WHERE id = OLD.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER answers_locked_delete BEFORE DELETE ON answers
WHEN (SELECT status FROM inspections WHERE id = OLD.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER findings_locked_insert BEFORE INSERT ON findings
WHEN (SELECT status FROM inspections WHERE id = NEW.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER findings_locked_update BEFORE UPDATE ON findings
WHEN (SELECT status FROM inspections WHERE id = OLD.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER findings_locked_delete BEFORE DELETE ON findings
WHEN (SELECT status FROM inspections WHERE id = OLD.inspection_id) = 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;
CREATE TRIGGER inspections_stay_finished BEFORE UPDATE OF status ON inspections
WHEN OLD.status = 'finished' AND NEW.status <> 'finished'
BEGIN SELECT RAISE(ABORT, 'inspection is finished and locked'); END;

-- Trainee verification: the sampled roster rows and each phone/on-site check.
CREATE TABLE trainee_checks (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  roster_row INTEGER,
  name TEXT NOT NULL,
  id_number TEXT,              -- kept for the statutory duty; masked on screen and paper
  trade TEXT,
  phone TEXT,
  selected_for TEXT NOT NULL DEFAULT 'sample' CHECK (selected_for IN ('sample', 'verify')),
  method TEXT,                 -- 电话 / 实地
  reached INTEGER,
  answers TEXT NOT NULL DEFAULT '{}',   -- {attended, hours, exam, certificate, extra_fees, note}
  checked_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX trainee_checks_inspection ON trainee_checks(inspection_id);
