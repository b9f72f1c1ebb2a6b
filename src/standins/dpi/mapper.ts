import type { LetterRow, ReceiptRow } from './store.js'

/** a document the mailbox or printer took out of the package (mailbox.ts's openPackage) */
export interface StoredDocument {
  href: string
  mime: string
  title: string | null
  path: string
  size: number
}

/** `GET /sandbox/api/messages` items: what the sandbox shows of a letter (never its rows) */
export interface SandboxMessage {
  messageId: string
  conversationId: string
  type: 'digital' | 'utskrift'
  status: string
  /** the organisation it was sent for (`avsender.virksomhetsidentifikator`) */
  sender: string
  /** the mailbox address (digital) or the addressee's name (print) */
  recipient: string | null
  title: string | null
  provider: string
  kanal: string
  received: string
  /** the C2 FEILET beskrivelse, or why the mailbox or printer refused it */
  detail: string | null
  /** the types of the receipts made, in order */
  receipts: string[]
  documents: { href: string; title: string | null; mime: string; size: number; url: string }[]
}

export function documentsOf(letter: LetterRow): StoredDocument[] {
  return letter.documents ? (JSON.parse(letter.documents) as StoredDocument[]) : []
}

/** the business message of a letter (`digital` or `utskrift`) */
export function bodyOf(letter: LetterRow): Record<string, unknown> {
  const sbd = (JSON.parse(letter.payload) as { standardBusinessDocument: Record<string, unknown> })
    .standardBusinessDocument
  return (sbd[letter.type] ?? {}) as Record<string, unknown>
}

export function toSandboxMessage(letter: LetterRow, receipts: ReceiptRow[], baseUrl: string): SandboxMessage {
  const body = bodyOf(letter)
  const mottaker = (body.mottaker ?? {}) as { postkasseadresse?: string; navn?: string }
  return {
    messageId: letter.id,
    conversationId: letter.conversation_id,
    type: letter.type,
    status: letter.status,
    sender: letter.avsender_org,
    recipient: (letter.type === 'digital' ? mottaker.postkasseadresse : mottaker.navn) ?? null,
    title: typeof body.ikkesensitivtittel === 'string' ? body.ikkesensitivtittel : null,
    provider: letter.provider,
    kanal: letter.kanal,
    received: new Date(letter.created).toISOString(),
    detail: letter.detail,
    receipts: receipts.map((r) => r.type),
    documents: documentsOf(letter).map((d) => ({
      href: d.href,
      title: d.title,
      mime: d.mime,
      size: d.size,
      url: `${baseUrl}/sandbox/api/messages/${encodeURIComponent(letter.id)}/documents/${encodeURIComponent(d.href)}`,
    })),
  }
}
