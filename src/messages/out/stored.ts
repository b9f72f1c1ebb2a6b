import { conversationsByMessageId, updateConversation } from '../../conversations/repository.js'
import type { Executor } from '../../db/open.js'
import type { OutFileRow, OutMessageRow } from '../../db/schema.js'
import { ApiError } from '../../errors/api-error.js'
import type { PayloadStore } from '../../files/payload-store.js'
import { parseArkivmelding } from '../../sbd/arkivmelding.js'
import type { FileInfo } from '../../sbd/files.js'
import { parseSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { outMessageByConversationId, outMessageByMessageId } from './repository.js'

export const ARKIVMELDING_FILE = 'arkivmelding.xml'
/** arkivmelding.xml is metadata; we read it whole to parse it, so it has a ceiling */
export const MAX_ARKIVMELDING_BYTES = 32 * 1024 * 1024

/** The outgoing message or the reference's 404. */
export async function requireOutMessage(db: Executor, messageId: string): Promise<OutMessageRow> {
  const row = await outMessageByMessageId(db, messageId)
  if (!row) throw new ApiError('MessageNotFound', ['messageId', messageId])
  return row
}

/** As requireOutMessage, but a conversationId names the message too (the seed design's clients do that). */
export async function findOutMessageLoosely(db: Executor, id: string): Promise<OutMessageRow> {
  const row = (await outMessageByMessageId(db, id)) ?? (await outMessageByConversationId(db, id))
  if (!row) throw new ApiError('MessageNotFound', ['messageId', id])
  return row
}

export function storedSbd(row: OutMessageRow): StandardBusinessDocument {
  return parseSbd(JSON.parse(row.sbd))
}

export function toFileInfo(f: OutFileRow): FileInfo {
  return {
    filename: f.filename,
    title: f.title,
    mimeType: f.mime_type,
    size: f.size,
    primaryDocument: f.primary_document === 1,
    dokumentnummer: f.dokumentnummer,
  }
}

export async function readText(payloads: PayloadStore, key: string, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of payloads.read(key)) {
    size += (chunk as Buffer).length
    if (size > maxBytes)
      throw new ApiError('UnmarshalArkivmelding', [], {
        message: `arkivmelding.xml is larger than ${maxBytes} bytes`,
      })
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The files an uploaded arkivmelding.xml names (`referanseDokumentfil`), for the send check. */
export async function arkivmeldingOf(payloads: PayloadStore, files: OutFileRow[]) {
  const file = files.find((f) => f.filename === ARKIVMELDING_FILE)
  if (!file) return null
  return parseArkivmelding(await readText(payloads, file.storage_key, MAX_ARKIVMELDING_BYTES))
}

/**
 * As the reference: the conversation takes its title from the journalpost's `offentligTittel` and its
 * reference from `<saksmappe.systemID>-<journalpostnummer>` when there is one. Call inside a transaction.
 */
export async function titleConversation(
  trx: Executor,
  messageId: string,
  arkivmelding: { title: string | null; reference: string | null },
  now: number,
): Promise<void> {
  for (const c of await conversationsByMessageId(trx, messageId, 'OUTGOING')) {
    await updateConversation(trx, c.id, {
      message_title: arkivmelding.title,
      ...(arkivmelding.reference ? { message_reference: arkivmelding.reference } : {}),
      last_update: now,
    })
  }
}
