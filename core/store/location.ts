// Where a store is: a SQLite file path, or a PostgreSQL URL. Deciding costs nothing: this module
// loads neither driver.

/** True for a `postgres://` or `postgresql://` location. */
export function isPgUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}
