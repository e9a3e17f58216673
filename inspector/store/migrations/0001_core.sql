-- Core schema of the laptop store. Later features add their own numbered files.
-- Ids are UUIDv7 strings made on the laptop; JSON columns hold lists/objects.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE institutions (
  id TEXT PRIMARY KEY,
  credit_code TEXT NOT NULL UNIQUE,         -- 统一社会信用代码
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('培训机构', '评价机构')),
  sub_kind TEXT,
  county TEXT NOT NULL,
  city TEXT,
  address TEXT,
  legal_rep TEXT,
  contact TEXT,
  phone TEXT,
  trades TEXT NOT NULL DEFAULT '[]',        -- JSON list of 职业/工种
  headcount INTEGER,                        -- 培训或取证人数
  licence_no TEXT,
  credit_grade TEXT,
  complaints INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);
CREATE INDEX institutions_county ON institutions(county);

CREATE TABLE inspectors (
  id TEXT PRIMARY KEY,
  badge_no TEXT NOT NULL UNIQUE,            -- 执法证号
  name TEXT NOT NULL,
  unit TEXT,
  county TEXT,
  specialties TEXT NOT NULL DEFAULT '[]',
  conflicts TEXT NOT NULL DEFAULT '[]',     -- credit codes or names to recuse from
  updated_at TEXT NOT NULL
);

-- Exact checklist text an inspection used; never changed once stored.
CREATE TABLE checklist_versions (
  id TEXT PRIMARY KEY,                      -- '<checklist_id>@<version>'
  checklist_id TEXT NOT NULL,
  version TEXT NOT NULL,
  title TEXT NOT NULL,
  source TEXT NOT NULL,                     -- the TOML text itself
  sha256 TEXT NOT NULL,
  stored_at TEXT NOT NULL,
  UNIQUE (checklist_id, version)
);
CREATE TRIGGER checklist_versions_immutable BEFORE UPDATE ON checklist_versions
BEGIN SELECT RAISE(ABORT, 'checklist versions are immutable'); END;

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  draw_id TEXT,
  kind TEXT NOT NULL DEFAULT 'draw' CHECK (kind IN ('draw', 'adhoc', 'reinspection')),
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  inspector_ids TEXT NOT NULL DEFAULT '[]',
  checklist_ids TEXT NOT NULL DEFAULT '[]',
  due_from TEXT,
  due_to TEXT,
  status TEXT NOT NULL DEFAULT 'open',      -- open / in_progress / done / cancelled
  note TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX tasks_institution ON tasks(institution_id);

CREATE TABLE inspections (
  id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL DEFAULT 1,
  replaces_id TEXT REFERENCES inspections(id),   -- an amendment names the revision it replaces
  task_id TEXT REFERENCES tasks(id),
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'finished')),
  started_at TEXT NOT NULL,
  ended_at TEXT,
  place TEXT,
  inspector_ids TEXT NOT NULL DEFAULT '[]',
  recorder_id TEXT,
  ids_shown INTEGER NOT NULL DEFAULT 0,
  rights_explained INTEGER NOT NULL DEFAULT 0,
  person_in_charge TEXT NOT NULL DEFAULT '{}',   -- {name, position, phone}
  checklist_version_ids TEXT NOT NULL DEFAULT '[]',
  result_category TEXT,                          -- 未发现问题 / 发现问题已责令改正 / 无法联系 / 不配合
  ui_state TEXT NOT NULL DEFAULT '{}',           -- where the inspector was (GUI restore)
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX inspections_institution ON inspections(institution_id);
CREATE INDEX inspections_task ON inspections(task_id);

CREATE TABLE answers (
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  checklist_version_id TEXT NOT NULL REFERENCES checklist_versions(id),
  item_id TEXT NOT NULL,
  value TEXT,                                    -- JSON: the typed answer
  note TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (inspection_id, checklist_version_id, item_id)
) WITHOUT ROWID;

CREATE TABLE findings (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  checklist_version_id TEXT,
  item_id TEXT,
  codes TEXT NOT NULL DEFAULT '[]',              -- catalogue codes, e.g. ["PX-YB-3"]
  severity TEXT,                                 -- 轻微 / 一般 / 严重 (worst of codes)
  description TEXT NOT NULL,                     -- neutral statement of facts
  basis TEXT,
  people_involved INTEGER,                       -- 涉及人数
  amount REAL,                                   -- 资金金额 (元)
  required_action TEXT,
  deadline TEXT,
  position INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX findings_inspection ON findings(inspection_id);

CREATE TABLE rectifications (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  institution_id TEXT NOT NULL REFERENCES institutions(id),
  notice_number TEXT,
  deadline TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '待整改'
    CHECK (status IN ('待整改', '已按期整改', '逾期整改', '拒不整改或敷衍整改')),
  evidence TEXT NOT NULL DEFAULT '[]',
  reinspection_task_id TEXT,
  reinspection_inspection_id TEXT,
  closed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Append-only, hash-chained: hash = sha256(prev_hash || canonical(entry)).
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ts TEXT NOT NULL,
  actor TEXT,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  action TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

-- Every change to push is an operation with its own id; sent only when HQ says applied/duplicate.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id TEXT NOT NULL UNIQUE,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  op TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  sent_at TEXT,
  result TEXT
);
CREATE INDEX outbox_unsent ON outbox(sent_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_entity ON outbox(entity, entity_id);
