// An innsynskrav as eInnsyn sends it: an SBD from 910076787 to the agency, and an ASiC-E holding the order
// (`order.xml`, eInnsyn's `<bestilling>` of version 1 in outline) signed with eInnsyn's key and encrypted
// with PKCS#1 v1.5 key transport to the agency's certificate, in the body the reference's
// NextMoveServiceBusPayloadFactory writes, on the agency's `innsyn` queue.

import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DateTime } from 'luxon'
import { z } from 'zod'
import { encodeBody } from '../../channels/dpe/body.js'
import { targetQueue } from '../../channels/dpe/queues.js'
import { writeAsic } from '../../packaging/asic.js'
import { encryptStream } from '../../packaging/cms.js'
import { OSLO } from '../../util/time.js'
import { esc } from '../page-text.js'
import type { EinnsynKeys } from './keys.js'
import { EINNSYN_ORGNR, innsynskravSbd } from './messages.js'

const text = z.string().trim().min(1).max(500)

/** `POST /sandbox/api/innsynskrav`'s body */
export const InnsynskravRequest = z.object({
  to: z.string().regex(/^(?:0192:)?\d{9}$/, 'to must be an organisation number (9 digits)'),
  email: z
    .string()
    .trim()
    .regex(/^[^\s@]+@[^\s@]+$/, 'email must be an e-mail address'),
  name: text.optional(),
  documents: z
    .array(
      z.object({
        journalpostId: z.union([text, z.number().int()]).transform(String),
        saksnr: text.optional(),
        journalnr: text.optional(),
        dokumentnr: text.optional(),
        tittel: text.optional(),
      }),
    )
    .min(1, 'documents must list at least one journal post')
    .max(100),
})
export type InnsynskravRequest = z.infer<typeof InnsynskravRequest>

export interface BuiltInnsynskrav {
  messageId: string
  conversationId: string
  orgnr: string
  queue: string
  body: Buffer
}

/** The message for `request`, encrypted to `receiverCertPem` and signed with eInnsyn's keys. */
export async function buildInnsynskrav(
  request: InnsynskravRequest,
  keys: EinnsynKeys,
  receiverCertPem: string,
  now: Date,
): Promise<BuiltInnsynskrav> {
  const orgnr = request.to.replace(/^0192:/, '')
  const messageId = randomUUID()
  const conversationId = randomUUID()
  const order = Buffer.from(orderXml(request, messageId, now), 'utf8')
  const asic = writeAsic({
    sender: `0192:${EINNSYN_ORGNR}`,
    receiver: `0192:${orgnr}`,
    documents: [
      {
        filename: 'order.xml',
        mimeType: 'application/xml',
        primary: true,
        open: () => Readable.from([order]),
      },
    ],
    signer: keys,
    now: () => now,
  })
  const chunks: Buffer[] = []
  await pipeline(asic, encryptStream(receiverCertPem, { keyEncryption: 'rsa-pkcs1' }), async (source) => {
    for await (const chunk of source) chunks.push(chunk as Buffer)
  })
  const sbd = innsynskravSbd({ orgnr, email: request.email, messageId, conversationId, now })
  return {
    messageId,
    conversationId,
    orgnr,
    // the ServiceRegistry's record for the innsynskrav process names the `innsyn` queue
    queue: targetQueue(`0192:${orgnr}`, 'innsyn'),
    body: encodeBody(sbd, Buffer.concat(chunks)),
  }
}

/** The order: who asks, where the answer goes, and each journal post asked for. */
export function orderXml(request: InnsynskravRequest, id: string, now: Date): string {
  const el = (name: string, value: string | undefined, pad: string) =>
    value === undefined ? '' : `${pad}<${name}>${esc(value)}</${name}>\n`
  const documents = request.documents
    .map(
      (d) =>
        '    <dokument>\n' +
        el('journalpostId', d.journalpostId, '      ') +
        el('saksnr', d.saksnr, '      ') +
        el('journalnr', d.journalnr, '      ') +
        el('dokumentnr', d.dokumentnr, '      ') +
        el('tittel', d.tittel, '      ') +
        '    </dokument>\n',
    )
    .join('')
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<bestilling>\n' +
    el('id', id, '  ') +
    el('bestillingsdato', DateTime.fromJSDate(now, { zone: OSLO }).toFormat('dd.MM.yyyy'), '  ') +
    '  <bestiller>\n' +
    el('navn', request.name, '    ') +
    el('epost', request.email, '    ') +
    '  </bestiller>\n' +
    `  <dokumenter>\n${documents}  </dokumenter>\n</bestilling>\n`
  )
}
