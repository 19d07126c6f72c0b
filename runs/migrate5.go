package runs

// schema5 adds run management: tags (key=value) and notes on runs and
// experiments, and archived experiments (hidden from ls and reports unless
// asked). A target is ('run', run id) or ('experiment', name).
const schema5 = `
CREATE TABLE tags (
	kind       TEXT NOT NULL CHECK (kind IN ('run','experiment')),
	target     TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (kind, target, key)
) WITHOUT ROWID;
CREATE TABLE notes (
	id         INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('run','experiment')),
	target     TEXT NOT NULL,
	text       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX notes_target ON notes(kind, target);
ALTER TABLE experiments ADD COLUMN archived_at TEXT;
`
