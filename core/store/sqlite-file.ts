// Opening a SQLite run store's file, said for people: SQLite's errors about the file itself
// (access, damage, locks, a full disk, another program's database) become a StoreFileError that
// names the file and what to do (docs/cli.md, "Run stores that cannot be opened"). The store
// itself is sqlite-store.ts.
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";
import type { SqlDriver } from "./sql-driver";

/**
 * A run store file that cannot be used, said for people: which file, what is wrong and what to do
 * (docs/cli.md, "Run stores that cannot be opened"). Everything SQLite reports about the file
 * itself (access, damage, locks, a full disk) becomes one of these; anything else is a bug.
 */
export class StoreFileError extends Error {
  constructor(
    readonly path: string,
    readonly kind: "access" | "damaged" | "foreign" | "busy" | "full" | "io" | "lost",
    message: string,
  ) {
    super(message);
    this.name = "StoreFileError";
  }
}

export type Opener = (path: string, options: { readOnly?: boolean }) => SqlDriver;

/** The store's schema version, after checking that the file is a Keel run store at all. */
export function checkedVersion(db: SqlDriver, path: string): number {
  const version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((r) => String(r.name));
  if (version === 0 ? tables.length > 0 : !tables.includes("runs")) {
    throw new StoreFileError(
      path,
      "foreign",
      `${path} is a SQLite database but not a Keel run store (it has no Keel tables): Keel leaves it as it is. Name the run store with --store, or move this file aside`,
    );
  }
  return version;
}

/**
 * `open`, and every call on what it opens, with SQLite's errors about the file itself raised as a
 * StoreFileError naming `path` (the store people know; `actual` is the file opened, a copy).
 */
export function guardedOpen(open: Opener, path: string, actual?: string): Opener {
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw asStoreError(e, path);
    }
  };
  return (file, options) => {
    const db = guard(() => open(actual ?? file, options));
    return {
      exec: (sql) => guard(() => db.exec(sql)),
      prepare: (sql) => {
        const statement = guard(() => db.prepare(sql));
        return {
          run: (...params) => guard(() => statement.run(...params)),
          get: (...params) => guard(() => statement.get(...params)),
          all: (...params) => guard(() => statement.all(...params)),
        };
      },
      transaction: (fn) => guard(() => db.transaction(fn)),
      close: () => db.close(),
    };
  };
}

/** SQLite's primary result codes for problems with the file, by name and by number. */
const FILE_ERRORS: Record<string, [number, StoreFileError["kind"]]> = {
  SQLITE_PERM: [3, "access"],
  SQLITE_BUSY: [5, "busy"],
  SQLITE_LOCKED: [6, "busy"],
  SQLITE_READONLY: [8, "access"],
  SQLITE_IOERR: [10, "io"],
  SQLITE_CORRUPT: [11, "damaged"],
  SQLITE_FULL: [13, "full"],
  SQLITE_CANTOPEN: [14, "access"],
  SQLITE_NOTADB: [26, "damaged"],
};

/** The error as a StoreFileError when SQLite says it is about the file; else unchanged. */
export function asStoreError(e: unknown, path: string): unknown {
  if (e instanceof StoreFileError || !(e instanceof Error)) return e;
  // better-sqlite3: code "SQLITE_READONLY_DIRECTORY"; node:sqlite: errcode (extended) and errstr.
  const { code, errcode } = e as { code?: unknown; errcode?: unknown };
  let kind: StoreFileError["kind"] | undefined;
  for (const [name, [number, k]] of Object.entries(FILE_ERRORS)) {
    if (
      (typeof code === "string" && (code === name || code.startsWith(`${name}_`))) ||
      (typeof errcode === "number" && (errcode & 0xff) === number)
    )
      kind = k;
  }
  if (!kind) return e;
  const why = (e as { errstr?: string }).errstr ?? e.message;
  const message = {
    access: `cannot use the run store ${path}: ${why}. This user needs to read and write the file and its folder; or name another store with --store`,
    damaged: `${/not a database/.test(why) ? `${path} is not a Keel run store: it is not a SQLite database, or its first page is damaged` : `the run store ${path} is damaged`} (SQLite says: ${why}). Keel leaves it as it is. To start afresh, move it aside (mv ${path} ${path}.damaged): the next keel run creates a new store. The runs in a damaged store may be recovered with sqlite3's .recover command; or name another store with --store`,
    foreign: why,
    busy: `the run store ${path} is locked by another process (SQLite says: ${why}): try again when it has finished`,
    full: `cannot write the run store ${path}: the disk is full (SQLite says: ${why})`,
    io: `cannot read or write the run store ${path}: an I/O error (SQLite says: ${why}); check the disk`,
    lost: why,
  }[kind];
  return new StoreFileError(path, kind, message);
}

/** A file system's or SQLite's refusal to open, read or write the file. */
export function isAccessError(e: unknown): boolean {
  if (e instanceof StoreFileError) return e.kind === "access";
  const code = (e as { code?: unknown }).code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when the file at `path` starts with SQLite's header text. */
export function startsAsSqlite(path: string): boolean {
  const header = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString("latin1") === SQLITE_HEADER;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export const SQLITE_HEADER = "SQLite format 3\0";

/** Why this process may not write the store at `path` (its folder holds the files of a WAL database). */
export function readOnlyHere(path: string): string | undefined {
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (!writable(dirname(path))) return `its folder ${dirname(path)} is read-only`;
  if (existsSync(path) && !writable(path)) return "the file is read-only";
  return undefined;
}

/** What a command that writes says when it may not write the store. */
export function cannotWrite(path: string, why: string): string {
  return `cannot write the run store ${path}: ${why}. Make the file and its folder writable (chmod u+w), or record elsewhere with --store <file>`;
}
