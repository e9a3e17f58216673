-- The inspections list pages newest first (GUI: lazy paging over 10,000+ rows).
CREATE INDEX inspections_updated ON inspections(updated_at DESC, id DESC);
