import { closeSync, fsync, fsyncSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import type SQLite from 'better-sqlite3'
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SelectQueryNode,
  SqliteDialect,
} from 'kysely'

/**
 * SQLite with group commit: the statements of uses of the connection that follow each other closely
 * (each HTTP request's transaction, each job's update) run in one SQLite transaction, committed once,
 * so one WAL fsync makes several of them durable. On this kind of machine such a commit costs about ten
 * times a small insert, so under load the commits were most of what a request cost.
 *
 * The fsync runs on the thread pool, not inside SQLite's COMMIT on the main thread (where it was 13–16 %
 * of the main thread's time in the issue 20 profiles): the connection runs with `synchronous=NORMAL`, so
 * its COMMIT writes the WAL frames without syncing them, and the driver then fsyncs the WAL file itself,
 * which is what `synchronous=FULL` does at each commit. Until that fsync is done the connection's lock
 * stays held, so no use of the database in this process runs, and no writer is answered: nothing here
 * reads or acts on a commit a power cut could undo (another process reading the file could see it for
 * that millisecond: a command run beside the server, say). A failed fsync leaves committed rows whose
 * durability is unknown, and the kernel may have dropped the unwritten pages: the driver fails that group
 * and every later use, and calls `onDurabilityLost`, which by default ends the process, so that the next
 * start recovers from what the disk holds, as after a crash. SQLite with NORMAL still syncs the WAL
 * header when it starts the file over and the WAL and database at each checkpoint, so the file stays
 * as safe from corruption as with FULL. Where a commit must happen at once, inside a synchronous step
 * (a stream's first row, another connection's turn, closing), it fsyncs synchronously.
 *
 * What each caller sees is unchanged: a query or a `transaction().execute()` that wrote resolves only
 * once the commit that holds its writes is on disk, and rejects if that commit fails; a Kysely
 * transaction is a savepoint inside the group, so its rollback undoes its own writes alone. A read
 * resolves at once while the group holds no writes; when it does, the read waits for that commit too,
 * since it may have seen those writes and nothing may act on what a crash would undo; a stream (whose
 * rows reach the caller before the connection is given back) commits the group's writes before its
 * first row. Kysely's `startTransaction()` resolves its `commit()` without waiting for the connection's
 * release, so it would answer before the commit is durable: the code does not use it.
 *
 * The group begins with a use of the connection and is committed from a `setImmediate` queued when that
 * use ends: whatever runs before it (other requests' I/O callbacks of the same loop turn, uses already
 * waiting for the connection) joins. Kysely's own SQLite driver has none of this (it begins and commits
 * each transaction, and autocommits other statements), hence a driver of our own.
 */
export class GroupCommitSqliteDialect extends SqliteDialect {
  readonly #database: SQLite.Database
  readonly #options: GroupCommitOptions

  constructor(database: SQLite.Database, options: GroupCommitOptions = {}) {
    super({ database: database as never })
    this.#database = database
    this.#options = options
  }

  override createDriver(): Driver {
    return new GroupCommitSqliteDriver(this.#database, this.#options)
  }
}

export interface GroupCommitOptions {
  /** makes the WAL durable (tests slow it or fail it); default: fsync on the thread pool */
  syncWal?: (fd: number) => Promise<void>
  /**
   * called when a fsync of the WAL failed after its commit: rows that are visible may not be on disk, so
   * the process must stop and recover from the disk at its next start (default: throws from a timer,
   * which ends the process)
   */
  onDurabilityLost?: (error: Error) => void
}

const fsyncOnPool = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())))

const stopProcess = (error: Error): void => {
  setImmediate(() => {
    throw error
  })
}

/** The Kysely transaction inside a group; Kysely's own nested savepoints use names of their own. */
const TRANSACTION_SAVEPOINT = 'ip_transaction'
/** Prepared statements kept; bounded, since `in (...)` lists make many distinct texts. */
const STATEMENT_CACHE_SIZE = 500

/**
 * What the connections of this process to one database file share: the lock that lets one use at a time
 * run, across them all. A group holds SQLite's write lock until its commit, which comes in a later turn of
 * the event loop; a second connection to the same file in the same process (the tests' several instances)
 * that ran meanwhile would wait for that lock in SQLite's busy handler, which blocks the event loop, so
 * the commit would never come. With the lock shared, a connection commits the others' groups (idle, since
 * it holds the lock) before it begins one.
 */
class FileLock {
  locked = false
  readonly waiting: Array<() => void> = []
  readonly drivers = new Set<GroupCommitSqliteDriver>()

  async lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  unlock(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.locked = false
  }
}

const locksByFile = new Map<string, FileLock>()

/** One SQLite transaction shared by the uses that joined it, and the promise of its commit. */
class Group {
  wrote = false
  /** set when SQLite rolled the group back (an I/O error, a full disk) or its commit failed */
  failed: Error | null = null
  flushQueued = false
  readonly committed: Promise<void>
  resolve!: () => void
  reject!: (error: Error) => void

  constructor() {
    this.committed = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // a group may fail with no caller waiting (every use read only); the failure reaches each waiter
    this.committed.catch(() => {})
  }

  fail(error: Error): void {
    if (this.failed) return
    this.failed = error
    this.reject(error)
  }
}

/** One use of the connection: from `acquireConnection` to `releaseConnection`. */
interface Use {
  /** the group this use joined or began; none while it has only read outside one */
  group: Group | null
  /** this use saw the group fail, through a statement that threw to its caller */
  sawFailure: boolean
}

class GroupCommitSqliteDriver implements Driver {
  readonly #db: SQLite.Database
  readonly #syncWal: (fd: number) => Promise<void>
  readonly #onDurabilityLost: (error: Error) => void
  /** the WAL file, opened at the first commit; null for an in-memory database (nothing to sync) */
  #walFd: number | null = null
  #lost: Error | null = null
  readonly #statements = new Map<string, SQLite.Statement>()
  readonly #connection: GroupConnection
  #group: Group | null = null
  #use: Use | null = null
  // a FIFO lock: the connection serves one use at a time, as Kysely's SQLite driver does
  readonly #file: FileLock

  constructor(db: SQLite.Database, options: GroupCommitOptions) {
    this.#db = db
    this.#syncWal = options.syncWal ?? fsyncOnPool
    this.#onDurabilityLost = options.onDurabilityLost ?? stopProcess
    // the driver syncs the WAL after each commit itself (see above); SQLite still syncs at checkpoints
    if (!db.memory) {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal')
        throw new Error('the group-commit driver needs the database in WAL mode')
      db.pragma('synchronous = NORMAL')
    }
    this.#connection = new GroupConnection(this)
    let file = db.memory ? undefined : locksByFile.get(db.name)
    if (!file) {
      file = new FileLock()
      if (!db.memory) locksByFile.set(db.name, file)
    }
    file.drivers.add(this)
    this.#file = file
  }

  /** Commits this driver's group, if it has one; called with the file's lock held. */
  commitOpenGroup(): void {
    if (this.#group) this.#commit(this.#group)
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock()
    if (this.#lost) {
      this.#unlock()
      throw this.#lost
    }
    // a use joins the open group, if there is one: its reads may see the group's writes
    this.#use = { group: this.#group, sawFailure: false }
    return this.#connection
  }

  /**
   * A group begins with the first write or transaction of a use when none is open; reads before that run
   * on their own, as SQLite's autocommit runs them, and wait for nothing.
   */
  #joinGroup(use: Use): Group {
    if (use.group) return use.group
    for (const peer of this.#file.drivers) if (peer !== this) peer.commitOpenGroup()
    // IMMEDIATE: the write lock from the start, so a group that reads and then writes never finds its
    // snapshot stale because another process wrote in between (busy_timeout waits for that process)
    this.#statement('begin immediate').run()
    const group = new Group()
    this.#group = group
    use.group = group
    return group
  }

  async beginTransaction(): Promise<void> {
    this.#joinGroup(this.#current())
    this.execute(`savepoint ${TRANSACTION_SAVEPOINT}`)
  }

  async commitTransaction(): Promise<void> {
    this.execute(`release ${TRANSACTION_SAVEPOINT}`)
  }

  async rollbackTransaction(): Promise<void> {
    const use = this.#current()
    // a group SQLite rolled back took the savepoint with it
    if (use.group?.failed) return
    this.execute(`rollback to ${TRANSACTION_SAVEPOINT}`)
    this.execute(`release ${TRANSACTION_SAVEPOINT}`)
  }

  async savepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.execute(`savepoint ${quoteName(name)}`)
  }

  async rollbackToSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.execute(`rollback to ${quoteName(name)}`)
  }

  async releaseSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.execute(`release ${quoteName(name)}`)
  }

  async releaseConnection(): Promise<void> {
    const use = this.#current()
    this.#use = null
    const group = use.group
    if (!group) {
      this.#unlock()
      return
    }
    if (!group.flushQueued && !group.failed) {
      group.flushQueued = true
      setImmediate(() => void this.#flush(group))
    }
    this.#unlock()
    // the caller already has this failure, from the statement that met it
    if (use.sawFailure) return
    if (group.failed) throw group.failed
    if (group.wrote) await group.committed
  }

  async destroy(): Promise<void> {
    await this.#lock()
    this.#file.drivers.delete(this)
    if (this.#file.drivers.size === 0 && locksByFile.get(this.#db.name) === this.#file)
      locksByFile.delete(this.#db.name)
    try {
      const group = this.#group
      if (group) this.#commit(group)
      this.#db.close()
      if (this.#walFd !== null) closeSync(this.#walFd)
      this.#walFd = null
    } finally {
      this.#unlock()
    }
  }

  /** Runs one statement of the current use. */
  execute(text: string, parameters: readonly unknown[] = []): QueryResult<unknown> {
    const use = this.#usable()
    const { stmt, group } = this.#prepare(use, text)
    try {
      const changed = (rows: number) => {
        if (group && !stmt.readonly && (rows > 0 || !isRowStatement(text))) group.wrote = true
      }
      if (stmt.reader) {
        const rows = stmt.all(parameters)
        // a statement with RETURNING answers one row for each row it changed
        changed(rows.length)
        return { rows }
      }
      const { changes, lastInsertRowid } = stmt.run(parameters)
      changed(changes)
      return {
        numAffectedRows: BigInt(changes),
        insertId: BigInt(lastInsertRowid),
        rows: [],
      }
    } catch (error) {
      if (group) {
        // whether it changed anything before it failed is not known: its use waits for the commit
        if (!stmt.readonly) group.wrote = true
        this.#afterError(use, group, error)
      }
      throw error
    }
  }

  /** Iterates one statement of the current use (Kysely's `stream()`). */
  *iterate(text: string, parameters: readonly unknown[]): Generator<unknown> {
    const use = this.#usable()
    // a stream's rows reach its caller before the connection is released, so they must not show
    // writes that are not yet durable: commit them first (streams are rare: exports, long listings)
    if (use.group?.wrote) this.#commitNow(use, use.group)
    const { stmt, group } = this.#prepare(use, text)
    try {
      yield* stmt.iterate(parameters) as Iterable<unknown>
    } catch (error) {
      if (group) this.#afterError(use, group, error)
      throw error
    }
  }

  /** The current use, unless its group has failed: then nothing more runs in it. */
  #usable(): Use {
    const use = this.#current()
    if (use.group?.failed) throw use.group.failed
    return use
  }

  /**
   * The statement for `text`; one that may write joins the use to a group (begun if none is open). The
   * group counts as written once a statement changed a row (see `execute`): an update or delete that
   * matched nothing (a poll of an empty queue, a job claim that found none) commits with no WAL fsync
   * and keeps nobody waiting, as SQLite's own commit of an unchanged transaction writes nothing.
   */
  #prepare(use: Use, text: string): { stmt: SQLite.Statement; group: Group | null } {
    const stmt = this.#statement(text)
    if (stmt.readonly) return { stmt, group: use.group }
    return { stmt, group: this.#joinGroup(use) }
  }

  /**
   * Most failed statements leave the transaction as it was (SQLite undoes that statement alone); a few
   * errors (I/O, a full disk, memory) roll the whole transaction back, and with it the writes of uses that
   * have already ended and wait for the commit: they fail too.
   */
  #afterError(use: Use, group: Group, error: unknown): void {
    if (this.#db.inTransaction) return
    use.sawFailure = true
    if (this.#group === group) this.#group = null
    group.fail(new Error('the database rolled the transaction back', { cause: error }))
  }

  /** Commits the current use's group at once; the use goes on outside any. */
  #commitNow(use: Use, group: Group): void {
    this.#commit(group)
    if (group.failed) {
      use.sawFailure = true
      throw group.failed
    }
    use.group = null
  }

  async #flush(group: Group): Promise<void> {
    await this.#lock()
    try {
      if (this.#group !== group || !this.#commitWithoutSync(group)) return
      // the lock stays held: no use runs, and no writer is answered, before the commit is on disk
      try {
        const fd = group.wrote ? this.#wal() : null
        if (fd !== null) await this.#syncWal(fd)
      } catch (error) {
        this.#durabilityLost(group, error)
        return
      }
      group.resolve()
    } finally {
      this.#unlock()
    }
  }

  /** Commits and syncs at once, blocking: for the steps that cannot wait (see the comment on top). */
  #commit(group: Group): void {
    if (!this.#commitWithoutSync(group)) return
    try {
      const fd = group.wrote ? this.#wal() : null
      if (fd !== null) fsyncSync(fd)
    } catch (error) {
      this.#durabilityLost(group, error)
      return
    }
    group.resolve()
  }

  /** SQLite's COMMIT, which with `synchronous=NORMAL` writes the WAL without syncing it. */
  #commitWithoutSync(group: Group): boolean {
    this.#group = null
    try {
      this.#statement('commit').run()
      return true
    } catch (error) {
      if (this.#db.inTransaction) this.#statement('rollback').run()
      group.fail(new Error('the commit failed', { cause: error }))
      return false
    }
  }

  /** The WAL file's descriptor, opened once (and its folder synced, so the file's name is durable). */
  #wal(): number | null {
    if (this.#db.memory) return null
    if (this.#walFd === null) {
      const walPath = `${this.#db.name}-wal`
      this.#walFd = openSync(walPath, 'r')
      const folder = openSync(dirname(walPath), 'r')
      try {
        fsyncSync(folder)
      } finally {
        closeSync(folder)
      }
    }
    return this.#walFd
  }

  /** The WAL could not be synced after a commit: that group fails, and so does everything after it. */
  #durabilityLost(group: Group, cause: unknown): void {
    const error = new Error('the database could not make a commit durable (fsync of its WAL failed)', {
      cause,
    })
    this.#lost = error
    group.fail(error)
    this.#onDurabilityLost(error)
  }

  #current(): Use {
    if (!this.#use) throw new Error('no connection acquired')
    return this.#use
  }

  #statement(text: string): SQLite.Statement {
    let stmt = this.#statements.get(text)
    if (!stmt) {
      stmt = this.#db.prepare(text)
      if (this.#statements.size >= STATEMENT_CACHE_SIZE)
        this.#statements.delete(this.#statements.keys().next().value as string)
      this.#statements.set(text, stmt)
    }
    return stmt
  }

  #lock(): Promise<void> {
    return this.#file.lock()
  }

  #unlock(): void {
    this.#file.unlock()
  }
}

class GroupConnection implements DatabaseConnection {
  readonly #driver: GroupCommitSqliteDriver

  constructor(driver: GroupCommitSqliteDriver) {
    this.#driver = driver
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.#driver.execute(query.sql, query.parameters) as QueryResult<R>
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('only select queries can be streamed')
    for (const row of this.#driver.iterate(query.sql, query.parameters)) yield { rows: [row as R] }
  }
}

/**
 * Whether `text` is a plain INSERT, UPDATE, DELETE or REPLACE, whose changed rows SQLite counts (what
 * Kysely compiles starts with its keyword). Anything else that may write (DDL, a CTE, a pragma) counts
 * as a change: SQLite's count of changes does not cover it.
 */
function isRowStatement(text: string): boolean {
  return /^\s*(insert|update|delete|replace)\s/i.test(text)
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
