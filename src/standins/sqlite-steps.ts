// The stand-ins' own SQLite files grow by numbered SQL steps: `user_version` counts those a file has had.

import type SQLite from 'better-sqlite3'

/** Runs the SQL steps `db` has not had yet (its `user_version` counts them), each in a transaction. */
export function migrate(db: SQLite.Database, migrations: readonly string[]): void {
  const version = db.pragma('user_version', { simple: true }) as number
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
}
