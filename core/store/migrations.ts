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
  // 2: a run's events and attempts are stored in segments, one row per commit holding that
  // commit's records as JSON arrays, instead of one row per record: a group commit of a thousand
  // pure steps writes one row, not three thousand, and a commit before an effect touches one page
  // of the log. Attempts of model calls are also kept one per row, by step, for provider-drift
  // lookups. Existing records move over unchanged, one segment per event and per run's attempts.
  `
  CREATE TABLE run_log (
    run_id TEXT NOT NULL,
    commit_no INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    events TEXT,
    attempts TEXT,
    PRIMARY KEY (run_id, commit_no)
  ) WITHOUT ROWID;
  INSERT INTO run_log (run_id, commit_no, first_seq, last_seq, events)
    SELECT run_id, seq, seq, seq, json_array(json_array(seq, type, step_id, attempt, at, json(data)))
    FROM events;
  INSERT INTO run_log (run_id, commit_no, first_seq, last_seq, attempts)
    SELECT a.run_id, coalesce((SELECT max(seq) FROM events e WHERE e.run_id = a.run_id), 0) + 1,
      coalesce((SELECT max(seq) FROM events e WHERE e.run_id = a.run_id), 0) + 1,
      coalesce((SELECT max(seq) FROM events e WHERE e.run_id = a.run_id), 0),
      json_group_array(json_array(a.step_id, a.attempt, a.status, a.origin, a.input_hash,
        a.output_hash, a.error_kind, a.error_message, a.started_at, a.ended_at, a.cache_key,
        a.source_run_id, json(a.meta)))
    FROM (SELECT * FROM attempts ORDER BY run_id, started_at, step_id, attempt) a
    GROUP BY a.run_id;
  CREATE TABLE model_calls (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (step_id, run_id, attempt)
  ) WITHOUT ROWID;
  INSERT INTO model_calls (run_id, step_id, attempt, data)
    SELECT run_id, step_id, attempt, json_array(step_id, attempt, status, origin, input_hash,
      output_hash, error_kind, error_message, started_at, ended_at, cache_key, source_run_id,
      json(meta))
    FROM attempts WHERE origin = 'live' AND status = 'succeeded' AND meta IS NOT NULL;
  DROP TABLE events;
  DROP TABLE attempts;
  `,
];
