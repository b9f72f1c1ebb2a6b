import { join } from 'node:path'
import { openStandInDb } from '../sqlite-steps.js'

/**
 * What the eInnsyn stand-in remembers, in SQLite under the Service Bus stand-in's data folder
 * (`einnsyn/einnsyn.sqlite`), so a restart loses nothing: the innsynskrav it sent with the statuses
 * that came back, the publiseringer it took in with their answers, and every other message it read.
 * The queues are another database (the Service Bus's), so a message is answered at least once: its row
 * is written with the ids of its answers before they are sent, and a redelivery sends the same ones again.
 */
export interface InnsynskravRow {
  message_id: string
  conversation_id: string
  orgnr: string
  email: string
  name: string | null
  /** the documents as asked for (JSON array) */
  documents: string
  queue: string
  sent: number
}

export interface StatusRow {
  message_id: string
  status: string
  received: number
}

export interface PubliseringRow {
  message_id: string
  conversation_id: string | null
  sender: string
  orgnr: string | null
  process: string | null
  queue: string
  /** 'answered': MOTTATT, LEVERT and an einnsyn_kvittering sent; 'refused': its ASiC could not be read */
  outcome: 'answered' | 'refused'
  reason: string | null
  /** the journalpost or møte file's name and text (JSON-LD), as received */
  filename: string | null
  content: string | null
  kvittering_id: string | null
  /** the kvittering's `status` (a JSON text) */
  kvittering_status: string | null
  received: number
}

export interface OtherRow {
  seq: number
  queue: string
  message_id: string | null
  type: string | null
  sender: string | null
  note: string
  received: number
}

const MIGRATIONS = [
  `CREATE TABLE innsynskrav (message_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, orgnr TEXT NOT NULL,
     email TEXT NOT NULL, name TEXT, documents TEXT NOT NULL, queue TEXT NOT NULL, sent INTEGER NOT NULL);
   CREATE TABLE innsynskrav_status (message_id TEXT NOT NULL, status TEXT NOT NULL, received INTEGER NOT NULL,
     PRIMARY KEY (message_id, status));
   CREATE TABLE publisering (message_id TEXT PRIMARY KEY, conversation_id TEXT, sender TEXT NOT NULL, orgnr TEXT,
     process TEXT, queue TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT, filename TEXT, content TEXT,
     kvittering_id TEXT, kvittering_status TEXT, received INTEGER NOT NULL);
   CREATE TABLE other (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, message_id TEXT, type TEXT,
     sender TEXT, note TEXT NOT NULL, received INTEGER NOT NULL);`,
]

export type EinnsynStore = ReturnType<typeof openEinnsynStore>

export function openEinnsynStore(dataDir: string) {
  const dir = join(dataDir, 'einnsyn')
  const db = openStandInDb(dir, 'einnsyn.sqlite', MIGRATIONS, { foreignKeys: false })
  return {
    addInnsynskrav: (row: InnsynskravRow) =>
      void db
        .prepare(
          `INSERT INTO innsynskrav (message_id, conversation_id, orgnr, email, name, documents, queue, sent)
           VALUES (@message_id, @conversation_id, @orgnr, @email, @name, @documents, @queue, @sent)`,
        )
        .run(row),
    innsynskrav: (messageId: string) =>
      db.prepare('SELECT * FROM innsynskrav WHERE message_id = ?').get(messageId) as
        | InnsynskravRow
        | undefined,
    /** newest first */
    allInnsynskrav: () =>
      db.prepare('SELECT * FROM innsynskrav ORDER BY sent DESC, rowid DESC').all() as InnsynskravRow[],
    /** a status seen again (a redelivery, a resend) keeps its first time */
    addStatus: (messageId: string, status: string, received: number) =>
      void db
        .prepare('INSERT OR IGNORE INTO innsynskrav_status (message_id, status, received) VALUES (?, ?, ?)')
        .run(messageId, status, received),
    statuses: () =>
      db.prepare('SELECT * FROM innsynskrav_status ORDER BY received, rowid').all() as StatusRow[],
    addPublisering: (row: PubliseringRow) =>
      void db
        .prepare(
          `INSERT OR IGNORE INTO publisering (message_id, conversation_id, sender, orgnr, process, queue, outcome,
             reason, filename, content, kvittering_id, kvittering_status, received)
           VALUES (@message_id, @conversation_id, @sender, @orgnr, @process, @queue, @outcome, @reason, @filename,
             @content, @kvittering_id, @kvittering_status, @received)`,
        )
        .run(row),
    publisering: (messageId: string) =>
      db.prepare('SELECT * FROM publisering WHERE message_id = ?').get(messageId) as
        | PubliseringRow
        | undefined,
    /** newest first */
    publiseringer: () =>
      db.prepare('SELECT * FROM publisering ORDER BY received DESC, rowid DESC').all() as PubliseringRow[],
    addOther: (row: Omit<OtherRow, 'seq'>) =>
      void db
        .prepare(
          `INSERT INTO other (queue, message_id, type, sender, note, received)
           VALUES (@queue, @message_id, @type, @sender, @note, @received)`,
        )
        .run(row),
    others: () => db.prepare('SELECT * FROM other ORDER BY seq DESC').all() as OtherRow[],
    close: () => db.close(),
  }
}
