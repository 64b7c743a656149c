// Opening the store a command names: a SQLite file (the default, `.keel/runs.sqlite`), or a
// PostgreSQL store at a `postgres://` URL (production mode, loaded only then: `@keel/production`).
import { statSync } from "node:fs";
import { join } from "node:path";
import type { RunStore } from "@keel/core/store/run-store";
import { isPgUrl } from "@keel/core/store/location";
import { openSqliteStore } from "@keel/core/store/sqlite-store";
import { UsageError } from "./output";

/**
 * Opens the store at `location`. Unless `readOnly`, a store is created and migrated; with it (the
 * commands that only read) nothing is created, and a store file this user may not write is read
 * as it is.
 */
export async function openStoreAt(
  location: string,
  options: { readonly readOnly?: boolean } = {},
): Promise<RunStore> {
  if (!isPgUrl(location)) {
    if (statSync(location, { throwIfNoEntry: false })?.isDirectory())
      throw new UsageError(
        `${location} is a folder, not a run store file: name a file, such as ${join(location, "runs.sqlite")}`,
      );
    return openSqliteStore(location, options);
  }
  const { openPgStore, NoPgStoreError } = await import("@keel/production");
  try {
    return await openPgStore(location, options);
  } catch (e) {
    if (e instanceof NoPgStoreError) throw new UsageError(e.message);
    throw new UsageError(
      `cannot open the run store at ${storeName(location)}: ${(e as Error).message}`,
    );
  }
}

/** A store's location for messages: a URL loses its password. */
export function storeName(location: string): string {
  return isPgUrl(location) ? location.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@") : location;
}
