// Advisory locks taken by polling `pg_try_advisory_lock`, never by waiting inside
// `pg_advisory_lock`: a session that waits inside a statement holds a snapshot, and DBOS's
// migrations build indexes with CREATE INDEX CONCURRENTLY, which waits for every such snapshot
// to go, while the waiter waits for the migrating process's lock: a deadlock PostgreSQL does not
// detect (seen with two workers starting at once).
import type pg from "pg";

/** Takes the session-level advisory lock named `name` on `client`, polling every `everyMs`. */
export async function takeLock(client: pg.ClientBase, name: string, everyMs = 50): Promise<void> {
  for (;;) {
    const r = await client.query("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [name]);
    if (r.rows[0]?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function releaseLock(client: pg.ClientBase, name: string): Promise<void> {
  await client.query("SELECT pg_advisory_unlock(hashtext($1))", [name]);
}
