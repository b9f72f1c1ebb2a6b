import { openStandInDb } from '../sqlite-steps.js'

/**
 * The stand-in's state in SQLite under dataDir (`svarut.sqlite`), so a restart loses nothing:
 * forsendelser with their status, their documents (plaintext files beside it, see files.ts) and the
 * hendelser (events) SvarUt keeps per forsendelse.
 */
export type ForsendelseStatus = (typeof STATUSES)[number]

/** SvarUt v3's status enum; KS's client fails on any other value, so nothing else is ever stored. */
export const STATUSES = [
  'MOTTATT',
  'AKSEPTERT',
  'AVVIST',
  'FEILET_UNDER_MOTTAK',
  'VARSLET',
  'LEST',
  'SENDT_PRINT',
  'PRINTET',
  'MANUELT_HANDTERT',
  'SENDT_DIGITALT',
  'SENDT_SDP',
  'LEVERT_SDP',
  'KLAR_FOR_MOTTAK',
  'IKKE_LEVERT',
  'SLETTET',
  'SENDT_NHN_MOTTAKER',
  'LEVERT_NHN_MOTTAKER',
] as const

export interface ForsendelseRow {
  seq: number
  id: string
  /** null for a forsendelse made on the sandbox page (a municipality's answer) */
  konto_id: string | null
  avsender_orgnr: string
  mottaker_orgnr: string
  eksternref: string | null
  tittel: string
  /** the forsendelse JSON as sent (null and absent fields kept as they came) */
  request: string
  status: ForsendelseStatus
  status_changed: number
  created: number
  /** the mottakersystem (username) it is routed to, null when it goes the notice-and-print way */
  mottakersystem: string | null
  downloads: number
}

export interface DokumentRow {
  forsendelse_id: string
  idx: number
  filnavn: string
  mime_type: string
  size: number
  sha256: string
}

export interface HendelseRow {
  forsendelse_id: string
  tidspunkt: number
  hendelse: string
}

const MIGRATIONS = [
  `CREATE TABLE forsendelse (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, konto_id TEXT,
     avsender_orgnr TEXT NOT NULL, mottaker_orgnr TEXT NOT NULL, eksternref TEXT, tittel TEXT NOT NULL,
     request TEXT NOT NULL, status TEXT NOT NULL, status_changed INTEGER NOT NULL, created INTEGER NOT NULL,
     mottakersystem TEXT, downloads INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX forsendelse_eksternref ON forsendelse (konto_id, eksternref);
   CREATE INDEX forsendelse_inbox ON forsendelse (mottakersystem, status);
   CREATE TABLE dokument (
     forsendelse_id TEXT NOT NULL REFERENCES forsendelse (id), idx INTEGER NOT NULL, filnavn TEXT NOT NULL,
     mime_type TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (forsendelse_id, idx));
   CREATE TABLE hendelse (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, forsendelse_id TEXT NOT NULL REFERENCES forsendelse (id),
     tidspunkt INTEGER NOT NULL, hendelse TEXT NOT NULL);
   CREATE INDEX hendelse_by_forsendelse ON hendelse (forsendelse_id, seq);`,
]

export type SvarUtStore = ReturnType<typeof openSvarUtStore>

export function openSvarUtStore(dataDir: string) {
  const db = openStandInDb(dataDir, 'svarut.sqlite', MIGRATIONS, { foreignKeys: true })
  const addHendelse = db.prepare(
    'INSERT INTO hendelse (forsendelse_id, tidspunkt, hendelse) VALUES (?, ?, ?)',
  )
  return {
    insert: db.transaction(
      (row: Omit<ForsendelseRow, 'seq' | 'downloads'>, dokumenter: DokumentRow[], hendelser: string[]) => {
        db.prepare(
          `INSERT INTO forsendelse (id, konto_id, avsender_orgnr, mottaker_orgnr, eksternref, tittel, request,
             status, status_changed, created, mottakersystem)
           VALUES (@id, @konto_id, @avsender_orgnr, @mottaker_orgnr, @eksternref, @tittel, @request,
             @status, @status_changed, @created, @mottakersystem)`,
        ).run(row)
        const add = db.prepare(
          `INSERT INTO dokument (forsendelse_id, idx, filnavn, mime_type, size, sha256)
           VALUES (@forsendelse_id, @idx, @filnavn, @mime_type, @size, @sha256)`,
        )
        for (const d of dokumenter) add.run(d)
        for (const h of hendelser) addHendelse.run(row.id, row.created, h)
      },
    ),
    byId: (id: string) =>
      db.prepare('SELECT * FROM forsendelse WHERE id = ?').get(id.toLowerCase()) as
        | ForsendelseRow
        | undefined,
    dokumenter: (id: string) =>
      db.prepare('SELECT * FROM dokument WHERE forsendelse_id = ? ORDER BY idx').all(id) as DokumentRow[],
    hendelser: (id: string) =>
      db.prepare('SELECT * FROM hendelse WHERE forsendelse_id = ? ORDER BY seq').all(id) as HendelseRow[],
    /**
     * Moves a forsendelse to `to` when it is in one of `from` (any status when `from` is undefined),
     * with a hendelse; false when it was not (a race lost, or already there).
     */
    setStatus: db.transaction(
      (id: string, to: ForsendelseStatus, now: number, hendelse: string, from?: ForsendelseStatus[]) => {
        const marks = from ? ` AND status IN (${from.map(() => '?').join(', ')})` : ''
        const changed = db
          .prepare(`UPDATE forsendelse SET status = ?, status_changed = ? WHERE id = ?${marks}`)
          .run(to, now, id, ...(from ?? [])).changes
        if (changed === 1) addHendelse.run(id, now, hendelse)
        return changed === 1
      },
    ),
    addHendelse: (id: string, now: number, hendelse: string) => void addHendelse.run(id, now, hendelse),
    countDownload: (id: string) =>
      void db.prepare('UPDATE forsendelse SET downloads = downloads + 1 WHERE id = ?').run(id),
    byEksternRef: (kontoId: string, eksternref: string) =>
      (
        db
          .prepare('SELECT id FROM forsendelse WHERE konto_id = ? AND eksternref = ? ORDER BY seq DESC')
          .all(kontoId, eksternref) as { id: string }[]
      ).map((r) => r.id),
    /** forsendelser waiting in a mottakersystem's SvarInn, oldest first */
    klarForMottak: (mottakersystem: string) =>
      db
        .prepare(
          "SELECT * FROM forsendelse WHERE mottakersystem = ? AND status = 'KLAR_FOR_MOTTAK' ORDER BY seq",
        )
        .all(mottakersystem) as ForsendelseRow[],
    /** every forsendelse, oldest first, optionally only those to one organisation */
    all: (mottaker?: string) =>
      (mottaker
        ? db.prepare('SELECT * FROM forsendelse WHERE mottaker_orgnr = ? ORDER BY seq').all(mottaker)
        : db.prepare('SELECT * FROM forsendelse ORDER BY seq').all()) as ForsendelseRow[],
    isOpen: () => db.open,
    close: () => db.close(),
  }
}
