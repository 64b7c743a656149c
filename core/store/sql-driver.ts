// The little of SQLite the store needs, behind one interface, so that better-sqlite3 and Node's
// built-in node:sqlite (where the native module cannot load: an editor's Electron) can both serve
// the SQLite store. Invariant: the store never calls a driver-specific API.
import type BetterSqlite3 from "better-sqlite3";

export type SqlValue = string | number | null;

export interface SqlStatement {
  run(...params: SqlValue[]): void;
  get(...params: SqlValue[]): Record<string, unknown> | undefined;
  all(...params: SqlValue[]): Record<string, unknown>[];
}

export interface SqlDriver {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /** Runs `fn` in BEGIN IMMEDIATE … COMMIT (ROLLBACK when it throws). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Opens a database file with better-sqlite3. */
export function openBetterSqlite(path: string, options: { readOnly?: boolean } = {}): SqlDriver {
  // Loaded lazily: bundles that never open a store do not need the native module.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require("better-sqlite3") as typeof BetterSqlite3;
  const db = new Database(path, {
    readonly: options.readOnly === true,
    fileMustExist: options.readOnly === true,
  });
  let closed = false;
  // One transaction wrapper for every commit: building one per call costs more than the commit.
  const transaction = db.transaction((fn: () => unknown) => fn());
  return {
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return {
        run: (...params) => void statement.run(...params),
        get: (...params) => statement.get(...params) as Record<string, unknown> | undefined,
        all: (...params) => statement.all(...params) as Record<string, unknown>[],
      };
    },
    transaction: <T>(fn: () => T) => transaction.immediate(fn) as T,
    close: () => {
      if (!closed) db.close();
      closed = true;
    },
  };
}

interface NodeSqliteModule {
  DatabaseSync: new (
    path: string,
    options?: { readOnly?: boolean },
  ) => {
    exec(sql: string): void;
    prepare(sql: string): {
      run(...params: SqlValue[]): unknown;
      get(...params: SqlValue[]): Record<string, unknown> | undefined;
      all(...params: SqlValue[]): Record<string, unknown>[];
    };
    close(): void;
  };
}

/**
 * Loads node:sqlite without its "experimental" warning: Keel chooses it on purpose where
 * better-sqlite3 cannot load, behind the same conformance suite, and users cannot act on it.
 */
function requireQuietly(): NodeSqliteModule {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("SQLite is an experimental feature")) return;
    (emit as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("node:sqlite") as NodeSqliteModule;
  } finally {
    process.emitWarning = emit;
  }
}

/** Opens a database file with Node's built-in node:sqlite (Node ≥ 22.13). */
export function openNodeSqlite(path: string, options: { readOnly?: boolean } = {}): SqlDriver {
  const { DatabaseSync } = requireQuietly();
  const db = new DatabaseSync(path, { readOnly: options.readOnly === true });
  let closed = false;
  return {
    exec: (sql) => db.exec(sql),
    prepare: (sql) => {
      const statement = db.prepare(sql);
      return {
        run: (...params) => void statement.run(...params),
        get: (...params) => statement.get(...params),
        all: (...params) => statement.all(...params),
      };
    },
    transaction: (fn) => {
      // node:sqlite has no transaction helper: write the statements ourselves.
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (e) {
        db.exec("ROLLBACK");
        throw e;
      }
    },
    close: () => {
      if (!closed) db.close();
      closed = true;
    },
  };
}

/** better-sqlite3 where its native binary loads on this runtime, else node:sqlite. */
export function openDefaultDriver(path: string, options: { readOnly?: boolean } = {}): SqlDriver {
  try {
    return openBetterSqlite(path, options);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== "ERR_DLOPEN_FAILED" && code !== "MODULE_NOT_FOUND") throw e;
    try {
      return openNodeSqlite(path, options);
    } catch {
      throw new Error(
        `cannot open the run store ${path}: better-sqlite3 does not load on this runtime (${code}) and node:sqlite needs Node 22.13 or newer`,
      );
    }
  }
}
