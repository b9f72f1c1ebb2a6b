import { openStandInDb } from '../sqlite-steps.js'

/**
 * The stand-in's state in SQLite under dataDir (`dpi.sqlite`), so a restart loses nothing: the letters
 * accepted at `POST /messages/out` (their package is a file beside it, see server.ts), the access
 * point's statuses per letter, and the receipts waiting at `GET /messages/in`. The work still to do on a
 * letter is its row's `step` and `step_at`, so a restarted stand-in carries on where it stopped.
 */

/** what the sandbox shows: the access point's status, then what the mailbox or printer made of it */
export type LetterStatus =
  | 'OPPRETTET'
  | 'SENDT'
  | 'FEILET'
  | 'LEVERT'
  | 'LEST'
  | 'MOTTATT'
  | 'RETURPOST'
  | 'FEIL'

/** the next thing the simulated chain does: hand over to C3, open at C4, print, return the letter */
export type Step = 'handover' | 'deliver' | 'print' | 'return'

/** `GET /messages/out/{id}/statuses`: the three statuses the C2 OpenAPI knows */
export type C2Status = 'OPPRETTET' | 'SENDT' | 'FEILET'

export interface LetterRow {
  seq: number
  /** the SBD's `documentIdentification.instanceIdentifier` */
  id: string
  conversation_id: string
  type: 'digital' | 'utskrift'
  kanal: string
  avsenderidentifikator: string | null
  /** the SBD sender's organisation number (the integration point's) */
  sender_org: string
  /** `avsender.virksomhetsidentifikator` without its `0192:` (the organisation it is sent on behalf of) */
  avsender_org: string
  /** the SBD receiver: the mailbox or print provider */
  provider: string
  /** the JWS as it came */
  forretningsmelding: string
  /** the verified payload (`{"standardBusinessDocument": ...}`) as JSON */
  payload: string
  payload_sha256: string
  package_sha256: string
  package_path: string
  package_size: number
  created: number
  status: LetterStatus
  status_changed: number
  step: Step | null
  step_at: number | null
  /** the decrypted documents (JSON array) once the mailbox or printer opened the package */
  documents: string | null
  /** why the chain failed (FEILET's beskrivelse, a feil receipt's detaljer) */
  detail: string | null
}

export interface StatusRow {
  message_id: string
  status: C2Status
  beskrivelse: string | null
  timestamp: number
}

export interface ReceiptRow {
  seq: number
  /** the receipt's own instanceIdentifier: the id `POST /messages/in/{id}/read` takes */
  id: string
  message_id: string
  type: string
  kanal: string
  avsenderidentifikator: string | null
  sender_org: string
  avsender_org: string
  jws: string
  created: number
  read_at: number | null
}

export type NewLetter = Omit<
  LetterRow,
  'seq' | 'status' | 'status_changed' | 'step' | 'step_at' | 'documents' | 'detail'
>

/** What one step of the chain changed, written with its statuses and receipts in one transaction. */
export interface Advance {
  status?: LetterStatus
  step: Step | null
  stepAt: number | null
  documents?: string
  detail?: string | null
  c2Status?: { status: C2Status; beskrivelse: string | null }
  receipts?: Omit<ReceiptRow, 'seq' | 'read_at'>[]
}

export interface InboxQuery {
  /** organisations the caller speaks for: a receipt is theirs when it answers a letter one of them sent */
  orgs: string[]
  kanal: string | null
  avsenderidentifikator: string | null
  limit: number
  offset: number
}

const MIGRATIONS = [
  `CREATE TABLE letter (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, conversation_id TEXT NOT NULL,
     type TEXT NOT NULL, kanal TEXT NOT NULL, avsenderidentifikator TEXT, sender_org TEXT NOT NULL,
     avsender_org TEXT NOT NULL, provider TEXT NOT NULL, forretningsmelding TEXT NOT NULL, payload TEXT NOT NULL,
     payload_sha256 TEXT NOT NULL, package_sha256 TEXT NOT NULL, package_path TEXT NOT NULL,
     package_size INTEGER NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL,
     status_changed INTEGER NOT NULL, step TEXT, step_at INTEGER, documents TEXT, detail TEXT);
   CREATE INDEX letter_due ON letter (step_at) WHERE step IS NOT NULL;
   CREATE TABLE c2_status (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL REFERENCES letter (id),
     status TEXT NOT NULL, beskrivelse TEXT, timestamp INTEGER NOT NULL);
   CREATE INDEX c2_status_letter ON c2_status (message_id, seq);
   CREATE TABLE receipt (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, message_id TEXT NOT NULL,
     type TEXT NOT NULL, kanal TEXT NOT NULL, avsenderidentifikator TEXT, sender_org TEXT NOT NULL,
     avsender_org TEXT NOT NULL, jws TEXT NOT NULL, created INTEGER NOT NULL, read_at INTEGER);
   CREATE INDEX receipt_unread ON receipt (kanal COLLATE NOCASE, seq) WHERE read_at IS NULL;
   CREATE INDEX receipt_letter ON receipt (message_id, seq);`,
]

export type DpiStore = ReturnType<typeof openDpiStore>

export function openDpiStore(dataDir: string) {
  const db = openStandInDb(dataDir, 'dpi.sqlite', MIGRATIONS, { foreignKeys: true })
  const addStatus = db.prepare(
    'INSERT INTO c2_status (message_id, status, beskrivelse, timestamp) VALUES (?, ?, ?, ?)',
  )
  const addReceipt = db.prepare(
    `INSERT INTO receipt (id, message_id, type, kanal, avsenderidentifikator, sender_org, avsender_org, jws, created)
     VALUES (@id, @message_id, @type, @kanal, @avsenderidentifikator, @sender_org, @avsender_org, @jws, @created)`,
  )
  const byId = (id: string) =>
    db.prepare('SELECT * FROM letter WHERE id = ?').get(id) as LetterRow | undefined
  return {
    byId,
    /** a new letter, OPPRETTET, its handover due at `handoverAt` */
    insert: db.transaction((l: NewLetter, handoverAt: number): LetterRow => {
      db.prepare(
        `INSERT INTO letter (id, conversation_id, type, kanal, avsenderidentifikator, sender_org, avsender_org,
           provider, forretningsmelding, payload, payload_sha256, package_sha256, package_path, package_size,
           created, status, status_changed, step, step_at)
         VALUES (@id, @conversation_id, @type, @kanal, @avsenderidentifikator, @sender_org, @avsender_org,
           @provider, @forretningsmelding, @payload, @payload_sha256, @package_sha256, @package_path,
           @package_size, @created, 'OPPRETTET', @created, 'handover', @handoverAt)`,
      ).run({ ...l, handoverAt })
      addStatus.run(l.id, 'OPPRETTET', null, l.created)
      return byId(l.id)!
    }),
    /** applies a step's outcome when the letter is still at `from` (a step is never applied twice) */
    advance: db.transaction((id: string, from: Step | null, a: Advance, now: number): boolean => {
      const row = byId(id)
      if (!row || row.step !== from) return false
      db.prepare(
        `UPDATE letter SET status = @status, status_changed = @changed, step = @step, step_at = @stepAt,
           documents = @documents, detail = @detail WHERE id = @id`,
      ).run({
        id,
        status: a.status ?? row.status,
        changed: a.status && a.status !== row.status ? now : row.status_changed,
        step: a.step,
        stepAt: a.stepAt,
        documents: a.documents ?? row.documents,
        detail: a.detail === undefined ? row.detail : a.detail,
      })
      if (a.c2Status) addStatus.run(id, a.c2Status.status, a.c2Status.beskrivelse, now)
      for (const r of a.receipts ?? []) addReceipt.run(r)
      return true
    }),
    /** letters whose next step is due, the earliest first */
    due: (now: number, limit = 20) =>
      db
        .prepare('SELECT * FROM letter WHERE step IS NOT NULL AND step_at <= ? ORDER BY step_at, seq LIMIT ?')
        .all(now, limit) as LetterRow[],
    /** when the next step is due, or undefined when nothing waits */
    nextDue: () =>
      (
        db.prepare('SELECT MIN(step_at) AS at FROM letter WHERE step IS NOT NULL').get() as {
          at: number | null
        }
      ).at ?? undefined,
    statuses: (id: string) =>
      db.prepare('SELECT * FROM c2_status WHERE message_id = ? ORDER BY seq').all(id) as StatusRow[],
    /** unread receipts for the caller, oldest first */
    inbox: (q: InboxQuery): ReceiptRow[] => {
      if (q.orgs.length === 0) return []
      const orgs = q.orgs.map((_, i) => `@org${i}`).join(', ')
      const params: Record<string, unknown> = { kanal: q.kanal, avs: q.avsenderidentifikator, limit: q.limit }
      params.offset = q.offset
      q.orgs.forEach((org, i) => {
        params[`org${i}`] = org
      })
      return db
        .prepare(
          `SELECT * FROM receipt WHERE read_at IS NULL
             AND (sender_org IN (${orgs}) OR avsender_org IN (${orgs}))
             AND (@kanal IS NULL OR kanal = @kanal COLLATE NOCASE)
             AND (@avs IS NULL OR avsenderidentifikator = @avs)
           ORDER BY seq LIMIT @limit OFFSET @offset`,
        )
        .all(params) as ReceiptRow[]
    },
    /** receipts the sandbox makes beside the chain's steps (an opening, a failed notification, a bad one) */
    addReceipts: db.transaction((receipts: Omit<ReceiptRow, 'seq' | 'read_at'>[]) => {
      for (const r of receipts) addReceipt.run(r)
    }),
    receipt: (id: string) =>
      db.prepare('SELECT * FROM receipt WHERE id = ?').get(id) as ReceiptRow | undefined,
    /** true when the receipt was unread and is read now */
    markRead: (id: string, now: number) =>
      db.prepare('UPDATE receipt SET read_at = ? WHERE id = ? AND read_at IS NULL').run(now, id).changes ===
      1,
    receiptsOf: (messageId: string) =>
      db.prepare('SELECT * FROM receipt WHERE message_id = ? ORDER BY seq').all(messageId) as ReceiptRow[],
    /** every letter, the newest first */
    all: () => db.prepare('SELECT * FROM letter ORDER BY seq DESC').all() as LetterRow[],
    /** forgets everything (the sandbox's reset); the caller removes the files */
    reset: db.transaction(() => {
      db.exec('DELETE FROM receipt; DELETE FROM c2_status; DELETE FROM letter;')
    }),
    close: () => db.close(),
  }
}
