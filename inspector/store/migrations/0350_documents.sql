-- Legal documents of a visit: number blocks, issued numbers, documents and handwritten signatures.

-- A block of document numbers for one agency prefix and year. HQ hands each laptop its own
-- blocks (source 'hq'); before enrolment the laptop numbers from a local block (source 'local',
-- printed with an L marker so nobody mistakes it for an HQ number).
CREATE TABLE doc_number_blocks (
  id TEXT PRIMARY KEY,
  agency TEXT NOT NULL,                     -- the prefix printed before 〔year〕, e.g. 新人社监
  year INTEGER NOT NULL,
  first INTEGER NOT NULL,
  last INTEGER NOT NULL,
  next INTEGER NOT NULL,                    -- next sequence to hand out (last + 1 when used up)
  source TEXT NOT NULL CHECK (source IN ('hq', 'local')),
  created_at TEXT NOT NULL,
  CHECK (first >= 1 AND last >= first AND next BETWEEN first AND last + 1)
);
CREATE INDEX doc_number_blocks_agency_year ON doc_number_blocks(agency, year, source);

-- Every number ever handed out; the UNIQUE key is what makes a repeat impossible.
CREATE TABLE doc_numbers (
  agency TEXT NOT NULL,
  year INTEGER NOT NULL,
  source TEXT NOT NULL,
  seq INTEGER NOT NULL,
  number TEXT NOT NULL UNIQUE,
  block_id TEXT NOT NULL REFERENCES doc_number_blocks(id),
  document_id TEXT,
  issued_at TEXT NOT NULL,
  PRIMARY KEY (agency, year, source, seq)
);

CREATE TABLE documents (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  kind TEXT NOT NULL CHECK (kind IN ('record', 'notice', 'receipt', 'ledger')),
  number TEXT UNIQUE,                       -- 文号 (the ledger has none)
  sha256 TEXT,                              -- of the final PDF (signed when status = 'signed')
  record_sha256 TEXT NOT NULL,              -- of the canonical record the document shows (in the QR)
  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
  signers TEXT NOT NULL DEFAULT '[]',       -- JSON [{badge_no, name, field, signed_at}]
  blob_sha256 TEXT,                         -- where the PDF bytes live (blob store)
  path TEXT,                                -- a copy on disk, if any
  printed_at TEXT,
  served TEXT,                              -- JSON {method, place, time, recipient | refusal_reason + witness}
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX documents_inspection ON documents(inspection_id, kind);

-- Handwritten signatures captured on screen (or a refusal to sign).
CREATE TABLE signatures (
  id TEXT PRIMARY KEY,
  inspection_id TEXT NOT NULL REFERENCES inspections(id),
  role TEXT NOT NULL CHECK (role IN ('inspector1', 'inspector2', 'person_in_charge', 'witness', 'recipient')),
  signer_name TEXT,
  png_sha256 TEXT,                          -- blob holding the PNG
  strokes TEXT,                             -- JSON [[[x, y], ...], ...] in a 0..1 box
  refused INTEGER NOT NULL DEFAULT 0,
  refusal_reason TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX signatures_inspection ON signatures(inspection_id, role);
