import { openStandInDb } from '../../sqlite-steps.js'

/**
 * Correspondences in their own SQLite file beside the broker's (`correspondence.sqlite` under dataDir),
 * attachments as files under `correspondence/attachments/`. Each lifecycle step is a stored time, not a
 * timer: the status is derived from these times when asked (status.ts), so a restart neither loses nor
 * delays a publication that was due.
 */
export interface CorrespondenceRow {
  seq: number
  id: string
  idempotent_key: string | null
  /** the caller's organisation, `0192:<orgnr>` */
  sender: string
  resource_id: string
  senders_reference: string
  /** as the sender wrote it (`urn:altinn:organization:identifier-no:910094092`, `0192:…`, an fnr) */
  recipient: string
  /** the bare organisation or national identity number */
  recipient_id: string
  /** JSON: the request as bound (content, dates, flags, notification), for the overview and the sandbox */
  request: string
  /** JSON: the form fields as received, `[[key, value], …]` in their order */
  fields: string
  /** JSON: the attachment ids, in the metadata's order */
  attachment_ids: string
  /** JSON: `[{orderId, isReminder}]` */
  notifications: string
  created: number
  ready_at: number
  publish_at: number
  fetched_at: number | null
  read_at: number | null
  failed_at: number | null
  failed_reason: string | null
  /** 1 when a reserved person's copy of a multi-recipient request, never published */
  reserved: number
  purged_at: number | null
  purged_by: 'Recipient' | 'Altinn' | null
}

export interface AttachmentRow {
  id: string
  file_name: string
  display_name: string | null
  senders_reference: string
  is_encrypted: number
  size: number
  sha256: string
}

export interface SearchFilter {
  /** the caller as a sender (`0192:…`), or undefined to leave senders out */
  sender?: string
  /** the caller as a recipient (bare orgnr), or undefined to leave recipients out */
  recipientId?: string
  resourceId?: string
  sendersReference?: string
  idempotentKey?: string
  /** only published ones for a recipient, as Altinn does not show the rest */
  publishedBy?: number
  limit: number
}

const MIGRATIONS = [
  `CREATE TABLE correspondence (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, idempotent_key TEXT UNIQUE,
     sender TEXT NOT NULL, resource_id TEXT NOT NULL, senders_reference TEXT NOT NULL,
     recipient TEXT NOT NULL, recipient_id TEXT NOT NULL, request TEXT NOT NULL, fields TEXT NOT NULL,
     attachment_ids TEXT NOT NULL, notifications TEXT NOT NULL, created INTEGER NOT NULL,
     ready_at INTEGER NOT NULL, publish_at INTEGER NOT NULL, fetched_at INTEGER, read_at INTEGER,
     failed_at INTEGER, failed_reason TEXT, reserved INTEGER NOT NULL DEFAULT 0, purged_at INTEGER,
     purged_by TEXT);
   CREATE INDEX correspondence_by_sender ON correspondence (sender, senders_reference);
   CREATE INDEX correspondence_by_recipient ON correspondence (recipient_id);
   CREATE TABLE correspondence_attachment (
     id TEXT PRIMARY KEY, file_name TEXT NOT NULL, display_name TEXT, senders_reference TEXT NOT NULL,
     is_encrypted INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL);`,
]

export type CorrespondenceStore = ReturnType<typeof openCorrespondenceStore>

export function openCorrespondenceStore(dataDir: string) {
  const db = openStandInDb(dataDir, 'correspondence.sqlite', MIGRATIONS, { foreignKeys: false })
  const one = (sql: string, ...args: unknown[]) =>
    db.prepare(sql).get(...args) as CorrespondenceRow | undefined
  const set = (sql: string, ...args: unknown[]) => db.prepare(sql).run(...args).changes === 1
  return {
    byId: (id: string) => one('SELECT * FROM correspondence WHERE id = ?', id),
    keyExists: (key: string) =>
      db.prepare('SELECT 1 FROM correspondence WHERE idempotent_key = ?').get(key) !== undefined,
    /** One request's correspondences and attachments together; a unique violation means the key was taken. */
    insert: db.transaction((rows: Omit<CorrespondenceRow, 'seq'>[], attachments: AttachmentRow[]) => {
      const addAttachment = db.prepare(
        `INSERT INTO correspondence_attachment (id, file_name, display_name, senders_reference, is_encrypted, size, sha256)
         VALUES (@id, @file_name, @display_name, @senders_reference, @is_encrypted, @size, @sha256)`,
      )
      for (const a of attachments) addAttachment.run(a)
      const add = db.prepare(
        `INSERT INTO correspondence (id, idempotent_key, sender, resource_id, senders_reference, recipient,
           recipient_id, request, fields, attachment_ids, notifications, created, ready_at, publish_at,
           fetched_at, read_at, failed_at, failed_reason, reserved, purged_at, purged_by)
         VALUES (@id, @idempotent_key, @sender, @resource_id, @senders_reference, @recipient, @recipient_id,
           @request, @fields, @attachment_ids, @notifications, @created, @ready_at, @publish_at, @fetched_at,
           @read_at, @failed_at, @failed_reason, @reserved, @purged_at, @purged_by)`,
      )
      for (const row of rows) add.run(row)
    }),
    attachments(ids: string[]): AttachmentRow[] {
      const get = db.prepare('SELECT * FROM correspondence_attachment WHERE id = ?')
      return ids.flatMap((id) => (get.get(id) as AttachmentRow | undefined) ?? [])
    },
    attachment: (id: string) =>
      db.prepare('SELECT * FROM correspondence_attachment WHERE id = ?').get(id) as AttachmentRow | undefined,
    search(f: SearchFilter): string[] {
      const who: string[] = []
      const args: (string | number)[] = []
      if (f.sender !== undefined) {
        who.push('sender = ?')
        args.push(f.sender)
      }
      if (f.recipientId !== undefined) {
        who.push('(recipient_id = ? AND publish_at <= ? AND failed_at IS NULL AND reserved = 0)')
        args.push(f.recipientId, f.publishedBy ?? 0)
      }
      const where = [`(${who.join(' OR ') || '0'})`, 'purged_at IS NULL']
      const add = (clause: string, value: string | undefined) => {
        if (value === undefined || value === '') return
        where.push(clause)
        args.push(value)
      }
      add('resource_id = ?', f.resourceId)
      add('senders_reference = ?', f.sendersReference)
      add('idempotent_key = ?', f.idempotentKey?.toLowerCase())
      const sql = `SELECT id FROM correspondence WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`
      return (db.prepare(sql).all(...args, f.limit) as { id: string }[]).map((r) => r.id)
    },
    /** every correspondence, oldest first, optionally only one recipient's */
    all(recipientId?: string): CorrespondenceRow[] {
      if (recipientId === undefined)
        return db.prepare('SELECT * FROM correspondence ORDER BY seq').all() as CorrespondenceRow[]
      return db
        .prepare('SELECT * FROM correspondence WHERE recipient_id = ? ORDER BY seq')
        .all(recipientId) as CorrespondenceRow[]
    },
    setFetched: (id: string, now: number) =>
      set('UPDATE correspondence SET fetched_at = ? WHERE id = ? AND fetched_at IS NULL', now, id),
    setRead: (id: string, now: number) =>
      set('UPDATE correspondence SET read_at = ? WHERE id = ? AND read_at IS NULL', now, id),
    setFailed: (id: string, now: number, reason: string) =>
      set('UPDATE correspondence SET failed_at = ?, failed_reason = ? WHERE id = ?', now, reason, id),
    setPurged: (id: string, now: number, by: 'Recipient' | 'Altinn') =>
      set(
        'UPDATE correspondence SET purged_at = ?, purged_by = ? WHERE id = ? AND purged_at IS NULL',
        now,
        by,
        id,
      ),
    close: () => db.close(),
  }
}
