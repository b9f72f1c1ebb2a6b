/**
 * Whether a statement failed on a unique constraint, on either store: PostgreSQL's SQLSTATE 23505, or
 * better-sqlite3's SQLITE_CONSTRAINT_UNIQUE (older builds only say it in the message). Callers turn it
 * into their own answer (a duplicate messageId, a filename taken, a message already received), so the
 * constraint, not a read before the write, decides a race between two instances.
 */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string }
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(e?.message ?? '')
  )
}
