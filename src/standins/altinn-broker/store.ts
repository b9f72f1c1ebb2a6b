import { openStandInDb } from '../sqlite-steps.js'

/**
 * The broker's state in SQLite under dataDir (`broker.sqlite`), so a restart loses nothing: issued
 * tokens, file transfers and each recipient's status. Payloads are files beside it (see files.ts).
 */
export type FileTransferStatus =
  | 'Initialized'
  | 'UploadStarted'
  | 'UploadProcessing'
  | 'Published'
  | 'Cancelled'
  | 'AllConfirmedDownloaded'
  | 'Purged'
  | 'Failed'
export type RecipientStatus = 'Initialized' | 'DownloadStarted' | 'DownloadConfirmed'

export interface TransferRow {
  id: string
  seq: number
  resource_id: string
  file_name: string
  senders_reference: string | null
  sender: string
  checksum: string | null
  use_virus_scan: number
  property_list: string | null
  size: number
  status: FileTransferStatus
  status_changed: number
  created: number
  expires: number
  /** how many times the whole file was sent to a recipient (the sandbox API shows it) */
  downloads: number
}

export interface RecipientRow {
  transfer_id: string
  recipient: string
  status: RecipientStatus
  changed: number
}

export interface TokenRow {
  token: string
  org: string
  expires: number
  /** space-separated, as the Maskinporten token's `scope`; null for tokens issued before scopes were kept */
  scope: string | null
}

export interface ListFilter {
  /** the caller's identifiers as a recipient may be written (`0192:910075918`, `910075918`) */
  recipients: string[]
  resourceId?: string
  status?: FileTransferStatus
  recipientStatus?: RecipientStatus
  from?: number
  to?: number
  limit: number
}

const MIGRATIONS = [
  `CREATE TABLE token (token TEXT PRIMARY KEY, org TEXT NOT NULL, expires INTEGER NOT NULL);
   CREATE TABLE transfer (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, resource_id TEXT NOT NULL,
     file_name TEXT NOT NULL, senders_reference TEXT, sender TEXT NOT NULL, checksum TEXT,
     use_virus_scan INTEGER NOT NULL, property_list TEXT, size INTEGER NOT NULL DEFAULT 0,
     status TEXT NOT NULL, status_changed INTEGER NOT NULL, created INTEGER NOT NULL,
     expires INTEGER NOT NULL);
   CREATE INDEX transfer_expires ON transfer (status, expires);
   CREATE TABLE recipient (
     transfer_id TEXT NOT NULL REFERENCES transfer (id), recipient TEXT NOT NULL,
     status TEXT NOT NULL, changed INTEGER NOT NULL, PRIMARY KEY (transfer_id, recipient));
   CREATE INDEX recipient_by_org ON recipient (recipient, status);`,
  'ALTER TABLE transfer ADD COLUMN downloads INTEGER NOT NULL DEFAULT 0;',
  // the Maskinporten scopes the token was exchanged with: the Correspondence API checks them, the broker does not
  'ALTER TABLE token ADD COLUMN scope TEXT;',
]

export type BrokerStore = ReturnType<typeof openBrokerStore>

export function openBrokerStore(dataDir: string) {
  const db = openStandInDb(dataDir, 'broker.sqlite', MIGRATIONS, { foreignKeys: true })
  return {
    addToken: (row: TokenRow) =>
      void db
        .prepare('INSERT INTO token (token, org, expires, scope) VALUES (?, ?, ?, ?)')
        .run(row.token, row.org, row.expires, row.scope),
    token: (token: string) =>
      db.prepare('SELECT * FROM token WHERE token = ?').get(token) as TokenRow | undefined,
    dropExpiredTokens: (now: number) => void db.prepare('DELETE FROM token WHERE expires < ?').run(now),
    transfer: (id: string) =>
      db.prepare('SELECT * FROM transfer WHERE id = ?').get(id) as TransferRow | undefined,
    recipients: (id: string) =>
      db.prepare('SELECT * FROM recipient WHERE transfer_id = ? ORDER BY rowid').all(id) as RecipientRow[],
    insertTransfer: db.transaction((row: Omit<TransferRow, 'seq' | 'downloads'>, recipients: string[]) => {
      db.prepare(
        `INSERT INTO transfer (id, resource_id, file_name, senders_reference, sender, checksum, use_virus_scan,
           property_list, size, status, status_changed, created, expires)
         VALUES (@id, @resource_id, @file_name, @senders_reference, @sender, @checksum, @use_virus_scan,
           @property_list, @size, @status, @status_changed, @created, @expires)`,
      ).run(row)
      const add = db.prepare(
        'INSERT OR IGNORE INTO recipient (transfer_id, recipient, status, changed) VALUES (?, ?, ?, ?)',
      )
      for (const r of recipients) add.run(row.id, r, 'Initialized', row.created)
    }),
    /** Moves a transfer from one status to another; false when it was not in `from` (a race lost). */
    setStatus(id: string, from: FileTransferStatus[], to: FileTransferStatus, now: number): boolean {
      const marks = from.map(() => '?').join(', ')
      const sql = `UPDATE transfer SET status = ?, status_changed = ? WHERE id = ? AND status IN (${marks})`
      return db.prepare(sql).run(to, now, id, ...from).changes === 1
    },
    publish(id: string, size: number, checksum: string, now: number): boolean {
      const sql = `UPDATE transfer SET status = 'Published', status_changed = ?, size = ?, checksum = ?
        WHERE id = ? AND status = 'UploadStarted'`
      return db.prepare(sql).run(now, size, checksum, id).changes === 1
    },
    setRecipientStatus(id: string, recipient: string, status: RecipientStatus, now: number): void {
      db.prepare('UPDATE recipient SET status = ?, changed = ? WHERE transfer_id = ? AND recipient = ?').run(
        status,
        now,
        id,
        recipient,
      )
    },
    /** Confirms one recipient; when every recipient has, the transfer becomes AllConfirmedDownloaded. */
    confirm: db.transaction((id: string, recipient: string, now: number) => {
      db.prepare(
        `UPDATE recipient SET status = 'DownloadConfirmed', changed = ?
         WHERE transfer_id = ? AND recipient = ? AND status <> 'DownloadConfirmed'`,
      ).run(now, id, recipient)
      const open = db
        .prepare(
          "SELECT count(*) AS n FROM recipient WHERE transfer_id = ? AND status <> 'DownloadConfirmed'",
        )
        .get(id) as { n: number }
      if (open.n === 0) {
        db.prepare(
          `UPDATE transfer SET status = 'AllConfirmedDownloaded', status_changed = ?
           WHERE id = ? AND status = 'Published'`,
        ).run(now, id)
      }
    }),
    list(filter: ListFilter): string[] {
      const where = [`r.recipient IN (${filter.recipients.map(() => '?').join(', ')})`]
      const args: (string | number)[] = [...filter.recipients]
      const add = (clause: string, value: string | number | undefined) => {
        if (value === undefined) return
        where.push(clause)
        args.push(value)
      }
      add('t.resource_id = ?', filter.resourceId)
      add('t.status = ?', filter.status)
      add('r.status = ?', filter.recipientStatus)
      add('t.created >= ?', filter.from)
      add('t.created <= ?', filter.to)
      const sql = `SELECT DISTINCT t.id, t.seq, t.created FROM transfer t JOIN recipient r ON r.transfer_id = t.id
        WHERE ${where.join(' AND ')} ORDER BY t.created DESC, t.seq DESC LIMIT ?`
      return (db.prepare(sql).all(...args, filter.limit) as { id: string }[]).map((r) => r.id)
    },
    // A download's 'finish' can come after the stand-in has closed its store (the client had every
    // byte and stopped it): that count has nowhere to go, and must not throw from a socket event.
    countDownload: (id: string) => {
      if (db.open) db.prepare('UPDATE transfer SET downloads = downloads + 1 WHERE id = ?').run(id)
    },
    /** Every transfer, oldest first, optionally only those from `senders` or to `recipients` (any form). */
    all(filter: { senders?: string[]; recipients?: string[] }): TransferRow[] {
      const where: string[] = []
      const args: string[] = []
      if (filter.senders) {
        where.push(`t.sender IN (${filter.senders.map(() => '?').join(', ')})`)
        args.push(...filter.senders)
      }
      if (filter.recipients) {
        const marks = filter.recipients.map(() => '?').join(', ')
        where.push(
          `EXISTS (SELECT 1 FROM recipient r WHERE r.transfer_id = t.id AND r.recipient IN (${marks}))`,
        )
        args.push(...filter.recipients)
      }
      const sql = `SELECT * FROM transfer t ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.seq`
      return db.prepare(sql).all(...args) as TransferRow[]
    },
    /** Transfers whose file is due to go: expired, or confirmed by all longer ago than the grace period. */
    duePurge(now: number, confirmedBefore: number): string[] {
      const sql = `SELECT id FROM transfer WHERE status <> 'Purged'
        AND (expires <= ? OR (status = 'AllConfirmedDownloaded' AND status_changed <= ?))`
      return (db.prepare(sql).all(now, confirmedBefore) as { id: string }[]).map((r) => r.id)
    },
    close: () => db.close(),
  }
}
