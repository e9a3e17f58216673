-- Print copies of photos for documents (long side 1280 px), derived once from the display
-- copy and kept as blobs; the original and the display copy stay untouched.
CREATE TABLE print_copies (
  display_sha256 TEXT PRIMARY KEY,
  print_sha256 TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
