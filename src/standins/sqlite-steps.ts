// The stand-ins' own SQLite files grow by numbered SQL steps: `user_version` counts those a file has had.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'

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

/**
 * A stand-in's SQLite file `<dir>/<file>`, made with `dir` when missing: WAL with `synchronous = NORMAL`
 * (a commit is in the WAL file before the stand-in answers, so a stand-in that is killed keeps what it
 * answered; only a crash of the whole machine could lose its last commits, which a national service's
 * stand-in need not survive, and the fsync of every commit was two thirds of the broker stand-in's time in
 * the issue 20 benchmarks), foreign keys enforced when asked, and the steps it has not had yet run.
 */
export function openStandInDb(
  dir: string,
  file: string,
  migrations: readonly string[],
  opts: { foreignKeys: boolean },
): SQLite.Database {
  mkdirSync(dir, { recursive: true })
  const db = new SQLite(join(dir, file))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  if (opts.foreignKeys) db.pragma('foreign_keys = ON')
  migrate(db, migrations)
  return db
}
