// The store's logical schema as an ordered list of migrations. `PRAGMA user_version` (SQLite) says
// how many have been applied. Append only: a released migration is never edited.

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workflow_path TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    mode TEXT NOT NULL,
    parent_id TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outputs_hash TEXT,
    error TEXT,
    owner_pid INTEGER,
    heartbeat_at TEXT
  );
  CREATE INDEX runs_by_path ON runs (workflow_path, id);
  CREATE TABLE events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    step_id TEXT,
    attempt INTEGER,
    at TEXT NOT NULL,
    data TEXT,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE attempts (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    origin TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    output_hash TEXT,
    error_kind TEXT,
    error_message TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    cache_key TEXT,
    source_run_id TEXT,
    meta TEXT,
    PRIMARY KEY (run_id, step_id, attempt)
  ) WITHOUT ROWID;
  CREATE INDEX attempts_by_step ON attempts (step_id, run_id);
  CREATE TABLE blobs (hash TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE cache (
    key TEXT PRIMARY KEY,
    output_hash TEXT NOT NULL,
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT
  ) WITHOUT ROWID;
  CREATE TABLE findings (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX findings_by_run ON findings (run_id);
  `,
];
