import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signJws } from '../../packaging/jws.js'
import { makeIdentity, makeTempDir, type TestIdentity } from '../../packaging/test-support.js'
import { CONVERSATION, flyttetDoc, PROVIDER, RECEIPT_ID, receiptDoc } from '../../sbd/dpi.fixtures.js'
import { DPI_RECEIPT_TYPES, type DpiDocument, dpiBody } from '../../sbd/dpi.js'
import { type DpiReceipt, ReceiptError, readReceipt, receiptStatuses } from './receipt.js'

const LEVERT_TEXT =
  'Kvittering på at digital post er tilgjengeliggjort eller at fysisk post er klargjort for utskrift'

describe('DPI receipts', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let provider: TestIdentity
  beforeAll(() => {
    tmp = makeTempDir('dpi-receipt-')
    provider = makeIdentity(tmp.dir, 'provider')
  })
  afterAll(() => tmp.cleanup())

  const read = async (doc: unknown) => readReceipt(await signJws(doc, provider))

  it.each(DPI_RECEIPT_TYPES)('reads a signed %s', async (type) => {
    const jws = await signJws(receiptDoc(type), provider)
    const r = await readReceipt(jws)
    expect(r).toMatchObject({
      id: RECEIPT_ID,
      type,
      conversationId: CONVERSATION,
      provider: `0192:${PROVIDER}`,
      tidspunkt: new Date('2026-08-20T08:16:00Z'),
      raw: jws,
    })
    expect(r.certificate.fingerprint256).toBe(new X509Certificate(provider.certPem).fingerprint256)
  })

  it('says what went wrong in a varslingfeiletkvittering and a feil', async () => {
    expect((await read(receiptDoc('varslingfeiletkvittering'))).detail).toBe('sms: Nummeret finnes ikke')
    expect((await read(receiptDoc('feil'))).detail).toBe('KLIENT: Kan ikke dekryptere')
    expect((await read(receiptDoc('leveringskvittering'))).detail).toBeNull()
  })

  it('refuses a receipt whose signature does not hold (kind signature)', async () => {
    const jws = await signJws(receiptDoc('leveringskvittering'), provider)
    const [h, , s] = jws.split('.')
    const other = receiptDoc('aapningskvittering')
    const forged = `${h}.${Buffer.from(JSON.stringify(other)).toString('base64url')}.${s}`
    await expect(readReceipt(forged)).rejects.toMatchObject({ name: 'ReceiptError', kind: 'signature' })
    await expect(readReceipt('garbage')).rejects.toBeInstanceOf(ReceiptError)
  })

  it('refuses a receipt its schema refuses or of an unknown type (kind content)', async () => {
    // Digdir's published sample receipt carries a maskinportentoken, which the receipt schema forbids
    const withToken = receiptDoc('leveringskvittering')
    ;(dpiBody(withToken) as Record<string, unknown>).maskinportentoken = 'x'
    await expect(read(withToken)).rejects.toMatchObject({
      kind: 'content',
      message: expect.stringMatching(/leveringskvittering: unknown member\(s\) maskinportentoken/),
    })
    const unknown = receiptDoc('leveringskvittering') as unknown as {
      standardBusinessDocument: DpiDocument['standardBusinessDocument']
    }
    unknown.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.type = 'kvittering'
    await expect(read(unknown)).rejects.toMatchObject({
      kind: 'content',
      message: expect.stringMatching(/not a DPI document type/),
    })
  })

  describe('receiptStatuses', () => {
    const receipt = async (doc: DpiDocument): Promise<DpiReceipt> => read(doc)

    it.each([
      ['leveringskvittering', 'LEVERT', LEVERT_TEXT],
      ['aapningskvittering', 'LEST', 'Kvittering fra Innbygger for at digital post er åpnet'],
      [
        'mottakskvittering',
        'LEVERT',
        'Kvittering fra utskrift og forsendelsestjenesten om at melding er mottatt og lagt til print',
      ],
      [
        'varslingfeiletkvittering',
        'FEIL',
        'Kvittering for at en spesifisert varsling ikke har blitt sendt (sms: Nummeret finnes ikke)',
      ],
      [
        'returpostkvittering',
        'FEIL',
        'Kvittering fra utskrift og forsendelsestjenesten om at posten ikke har blitt levert til Mottaker.',
      ],
      ['feil', 'FEIL', 'Generell melding om at det har skjedd en feil (KLIENT: Kan ikke dekryptere)'],
    ] as const)('%s -> %s', async (type, status, description) => {
      const r = await receipt(receiptDoc(type))
      expect(receiptStatuses(r, ['OPPRETTET', 'SENDT', 'MOTTATT'])).toEqual([
        { status, description, rawReceipt: r.raw },
      ])
    })

    it('registers MOTTATT before a LEVERT on a conversation without it', async () => {
      const r = await receipt(receiptDoc('mottakskvittering'))
      expect(receiptStatuses(r, ['OPPRETTET', 'SENDT']).map((s) => s.status)).toEqual(['MOTTATT', 'LEVERT'])
      expect(receiptStatuses(r, ['SENDT', 'MOTTATT']).map((s) => s.status)).toEqual(['LEVERT'])
      const lest = await receipt(receiptDoc('aapningskvittering'))
      expect(receiptStatuses(lest, ['SENDT']).map((s) => s.status)).toEqual(['LEST'])
    })

    it('maps flyttet (known, not a receipt) to ANNET', async () => {
      const r = await receipt(flyttetDoc())
      expect(receiptStatuses(r, [])).toEqual([
        { status: 'ANNET', description: 'Ukjent kvittering', rawReceipt: r.raw },
      ])
    })
  })
})
