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
  // pure steps writes one row, not three thousand. A segment's key is the run's number times 2^22
  // plus the commit's number within the run, so a run's segments are one range of the table and a
  // commit appends at its end (SQLite's cheapest insert: one page, no rebalancing). Runs get that
  // number as their rowid. Attempts of model calls are also kept one per row, by step, for
  // provider-drift lookups. Existing records move over unchanged.
  `
  CREATE TABLE runs_v2 (
    no INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
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
  INSERT INTO runs_v2 (id, workflow_path, workflow_name, source_hash, inputs_hash, status, mode,
      parent_id, started_at, ended_at, outputs_hash, error, owner_pid, heartbeat_at)
    SELECT id, workflow_path, workflow_name, source_hash, inputs_hash, status, mode, parent_id,
      started_at, ended_at, outputs_hash, error, owner_pid, heartbeat_at
    FROM runs ORDER BY id;
  DROP TABLE runs;
  ALTER TABLE runs_v2 RENAME TO runs;
  CREATE INDEX runs_by_path ON runs (workflow_path, id);
  CREATE TABLE run_log (
    id INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    events TEXT,
    attempts TEXT
  );
  INSERT INTO run_log (id, first_seq, last_seq, events)
    SELECT r.no * 4194304 + e.seq, e.seq, e.seq,
      json_array(json_array(e.seq, e.type, e.step_id, e.attempt, e.at, json(e.data)))
    FROM events e JOIN runs r ON r.id = e.run_id;
  INSERT INTO run_log (id, first_seq, last_seq, attempts)
    SELECT r.no * 4194304 + coalesce((SELECT max(seq) FROM events e WHERE e.run_id = r.id), 0) + 1,
      coalesce((SELECT max(seq) FROM events e WHERE e.run_id = r.id), 0) + 1,
      coalesce((SELECT max(seq) FROM events e WHERE e.run_id = r.id), 0),
      (SELECT json_group_array(json_array(a.step_id, a.attempt, a.status, a.origin, a.input_hash,
          a.output_hash, a.error_kind, a.error_message, a.started_at, a.ended_at, a.cache_key,
          a.source_run_id, json(a.meta)))
        FROM (SELECT * FROM attempts x WHERE x.run_id = r.id
          ORDER BY x.started_at, x.step_id, x.attempt) a)
    FROM runs r WHERE EXISTS (SELECT 1 FROM attempts x WHERE x.run_id = r.id);
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
  // 3: the process groups a run's commands start, recorded as each starts (its leader's pid and
  // start time), so that a resume can end what a run whose process died left running.
  `
  CREATE TABLE processes (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    start TEXT NOT NULL,
    PRIMARY KEY (run_id, pid, start)
  ) WITHOUT ROWID;
  `,
  // 4: scopes (docs/dev/scopes.md). A child run names the unit of its parent that started it;
  // the items of one step make model calls with the same attempt numbers, so a call is keyed by
  // its scope too ('' for the step itself). Events and attempts keep their scope in their log
  // tuples (rows.ts), which needs no change of table.
  `
  ALTER TABLE runs ADD COLUMN parent_scope TEXT;
  CREATE TABLE model_calls_v4 (
    run_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    data TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (step_id, run_id, scope, attempt)
  ) WITHOUT ROWID;
  INSERT INTO model_calls_v4 (run_id, step_id, attempt, data)
    SELECT run_id, step_id, attempt, data FROM model_calls;
  DROP TABLE model_calls;
  ALTER TABLE model_calls_v4 RENAME TO model_calls;
  `,
];

/** Commits per run that a segment key can number (migration 2): 2^22. */
export const COMMITS_PER_RUN = 4_194_304;
