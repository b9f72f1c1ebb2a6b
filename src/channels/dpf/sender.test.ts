import { createHash } from 'node:crypto'
import { Readable, Transform } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestStore, STORES, type TestStore } from '../../../test/support/db.js'
import { liveMemorySampler } from '../../../test/support/live-memory.js'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import type { OutFileRow } from '../../db/schema.js'
import { createLocalPayloadStore, type PayloadStore } from '../../files/payload-store.js'
import type { ServiceRegistry, SrParams } from '../../registry/client.js'
import { NotFoundInServiceRegistryError, ServiceRegistryUnavailableError } from '../../registry/errors.js'
import { parseSbd } from '../../sbd/parse.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { SvarUtFaults } from '../../standins/svarut/server.js'
import { SANDBOX_PASSWORD, sandboxIntegrasjonId, sandboxKontoId } from '../../standins/svarut/settings.js'
import { fiksToken, harness, ORG_A } from '../../standins/svarut/test-support.js'
import { systemClock } from '../../util/time.js'
import { generatedStream } from '../dpo/test-support.js'
import { handoverOf, recordHandover } from '../handovers.js'
import { type DpfSenderDeps, sendDpf } from './sender.js'
import { createSvarUtClient, type SvarUtClient } from './svarut-client.js'
import { ARKIVMELDING, FIKS, info, MESSAGE_ID, RECEIVER } from './test-support.js'

const logger = pino({ level: 'silent' })
const PURPOSE = `send:${MESSAGE_ID}`
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'

/** The message's files as uploaded: the arkivmelding's two, and one it does not name. */
const FILES = [
  { name: 'arkivmelding.xml', type: 'application/xml', bytes: Buffer.from(ARKIVMELDING) },
  { name: 'vedlegg.docx', type: DOCX, bytes: Buffer.from('vedlegget, ikke hoveddokumentet') },
  { name: 'vedtak.pdf', type: 'application/pdf', bytes: Buffer.from('%PDF-1.7 vedtaket') },
  { name: 'ikke-nevnt.txt', type: 'text/plain', bytes: Buffer.from('ikke nevnt i arkivmeldingen') },
]

function arkivmeldingSbd(o: { forsendelseType?: string } = {}): StandardBusinessDocument {
  return parseSbd({
    standardBusinessDocumentHeader: {
      headerVersion: '1.0',
      sender: [{ identifier: { value: `0192:${ORG_A}`, authority: 'iso6523-actorid-upis' } }],
      receiver: [{ identifier: { value: `0192:${RECEIVER}`, authority: 'iso6523-actorid-upis' } }],
      documentIdentification: {
        standard: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
        typeVersion: '2.0',
        instanceIdentifier: MESSAGE_ID,
        type: 'arkivmelding',
        creationDateAndTime: '2026-08-20T10:00:00+02:00',
      },
      businessScope: {
        scope: [
          {
            type: 'ConversationId',
            instanceIdentifier: '0d7b7a4e-5f0e-4e34-9d3c-2b1a0f9e8d7c',
            identifier: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
            scopeInformation: [{ expectedResponseDateTime: '2026-09-20T10:00:00+02:00' }],
          },
        ],
      },
    },
    arkivmelding: {
      hoveddokument: 'vedtak.pdf',
      sikkerhetsnivaa: 3,
      ...(o.forsendelseType && { dpf: { forsendelseType: o.forsendelseType } }),
    },
  })
}

/** A ServiceRegistry with the receiver's DPF record (SvarUt's certificate) and both info records. */
function fakeRegistry(certPem: string, failWith?: Error) {
  const asked: { params: SrParams; documentType: string }[] = []
  const registry = {
    async serviceRecord(params: SrParams, documentType: string) {
      asked.push({ params, documentType })
      if (failWith) throw failWith
      return { pemCertificate: certPem, service: { identifier: 'DPF', securityLevel: 3 } }
    },
    info: async (id: string) => (id === RECEIVER ? info(RECEIVER, 'Testkommune') : info(id, 'Sandkasse A')),
  } as unknown as ServiceRegistry
  return { registry, asked }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe.each(STORES)('sending to DPF on %s', (kind) => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  async function setUp(o: { faults?: SvarUtFaults; kryptert?: boolean; registryError?: Error } = {}) {
    const store: TestStore = await createTestStore(kind)
    cleanups.push(() => store.cleanup())
    const db: Db = await store.open()
    cleanups.push(() => db.close())
    const payloads: PayloadStore = createLocalPayloadStore(`${store.dir}/messages`)
    const h = await harness({ faults: o.faults })
    cleanups.push(() => h.close())
    const client: SvarUtClient = createSvarUtClient({
      baseUrl: h.svarut.url,
      kontoId: sandboxKontoId(ORG_A),
      integrasjonId: sandboxIntegrasjonId(ORG_A),
      integrasjonPassord: SANDBOX_PASSWORD,
      tokens: { token: async () => fiksToken(ORG_A) },
      timeoutMs: 30_000,
    })
    cleanups.push(() => client.close())
    const files: OutFileRow[] = []
    for (const [i, f] of FILES.entries()) {
      const key = `out/${MESSAGE_ID}/${i}`
      const written = await payloads.write(key, Readable.from([f.bytes]), {
        maxBytes: 1024 * 1024,
        onLimit: () => new Error('too big'),
      })
      files.push({ filename: f.name, mime_type: f.type, storage_key: key, size: written.size } as OutFileRow)
    }
    const { registry, asked } = fakeRegistry(h.svarut.certificatePem, o.registryError)
    // SvarUt prints only PDFs: anything else must be excluded from print unless kunDigitalLevering
    const ut = { ...FIKS.ut, ekskluderesFraPrint: ['docx'] }
    const config = { fiks: { ...FIKS, ut, kryptert: o.kryptert ?? true } } as unknown as Config
    const deps: DpfSenderDeps = { config, db, clock: systemClock, logger, payloads, registry, client }
    const forsendelser = async (): Promise<SandboxItem[]> =>
      (await h.call(`/sandbox/api/forsendelser?mottaker=${RECEIVER}`)).json() as Promise<SandboxItem[]>
    const document = async (id: string, idx: number) =>
      Buffer.from(await (await h.call(`/sandbox/forsendelser/${id}/dokumenter/${idx}`)).arrayBuffer())
    return { db, payloads, files, deps, asked, forsendelser, document, h }
  }

  it("sends the reference's example as one forsendelse, field by field, its documents intact", async () => {
    const { deps, files, asked, forsendelser, document, db } = await setUp()
    const outcome = await sendDpf(deps, { purpose: PURPOSE, sbd: arkivmeldingSbd(), files })
    const [stored, ...more] = await forsendelser()
    expect(more).toEqual([])
    expect(outcome).toEqual({ outcome: 'delivered', reference: stored!.id, statuses: [{ status: 'LEVERT' }] })
    expect(await handoverOf(db.kysely, PURPOSE)).toBe(stored!.id)
    expect(asked).toEqual([
      {
        params: {
          identifier: RECEIVER,
          process: 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
          conversationId: '0d7b7a4e-5f0e-4e34-9d3c-2b1a0f9e8d7c',
          securityLevel: 3,
        },
        documentType: 'urn:no:difi:arkivmelding:xsd::arkivmelding',
      },
    ])
    expect(stored).toMatchObject({ eksternRef: MESSAGE_ID, tittel: 'Vedtak i sak 2026/12', avsender: ORG_A })
    expect(stored!.forsendelse).toEqual({
      tittel: 'Vedtak i sak 2026/12',
      mottaker: {
        navn: 'Testkommune',
        digitalId: RECEIVER,
        adresse: { adresselinje1: 'Postboks 1', postnummer: '0151', poststed: 'OSLO' },
      },
      kunDigitalLevering: false,
      kryptert: true,
      utskriftskonfigurasjon: { tosidig: true },
      sikkerhetsniva: 'BETYDELIG',
      metadataFraAvleverendeSystem: {
        saksaar: 2026,
        sakssekvensnummer: 12,
        journalaar: 2026,
        journalsekvensnummer: 345,
        journalpostnummer: 3,
        journalposttype: 'U',
        journalstatus: 'E',
        journaldato: '2026-08-20T00:00:00+02:00',
        dokumentetsDato: '2026-08-20T00:00:00+02:00',
        tittel: 'Vedtak i sak 2026/12',
        saksbehandler: 'Kari Nordmann',
        ekstraMetadata: [
          { key: 'gnr', value: '12' },
          { key: 'bnr', value: '345' },
        ],
      },
      svarSendesTil: {
        navn: 'Digdir',
        type: 'ORGANISASJON',
        digitalId: ORG_A,
        adresse: { adresselinje1: 'Postboks 1382 Vika', postnummer: '0114', poststed: 'OSLO' },
      },
      // the Hoveddokument first; neither arkivmelding.xml nor the file the arkivmelding does not name
      dokumenter: [
        { filnavn: 'vedtak.pdf', mimeType: 'application/pdf', skalEkskluderesFraUtskrift: false },
        { filnavn: 'vedlegg.docx', mimeType: DOCX, skalEkskluderesFraUtskrift: true },
      ],
      eksternReferanse: MESSAGE_ID,
    })
    // SvarUt decrypted each part with its key: the bytes are the uploaded files'
    const [vedtak, vedlegg] = [FILES[2]!.bytes, FILES[1]!.bytes]
    expect(stored!.dokumenter).toEqual([
      { filnavn: 'vedtak.pdf', mimeType: 'application/pdf', size: vedtak.length, sha256: sha256(vedtak) },
      { filnavn: 'vedlegg.docx', mimeType: DOCX, size: vedlegg.length, sha256: sha256(vedlegg) },
    ])
    expect(await document(stored!.id, 0)).toEqual(vedtak)
    expect(await document(stored!.id, 1)).toEqual(vedlegg)
  })

  it('sends the documents as they are when difi.move.fiks.kryptert is false, and says so', async () => {
    const { deps, files, forsendelser, document } = await setUp({ kryptert: false })
    const outcome = await sendDpf(deps, { purpose: PURPOSE, sbd: arkivmeldingSbd(), files })
    const [stored] = await forsendelser()
    expect(outcome).toMatchObject({ outcome: 'delivered', reference: stored!.id })
    expect(stored!.forsendelse).toMatchObject({ kryptert: false })
    // the stand-in keeps a kryptert=false part as it came: CMS would show here
    expect(await document(stored!.id, 0)).toEqual(FILES[2]!.bytes)
  })

  it('finds the forsendelse whose answer was lost instead of sending a second', async () => {
    let draws = 0
    // the first answer (the send's) is dropped after SvarUt stored the forsendelse; the rest get through
    const { deps, files, forsendelser, db } = await setUp({
      faults: { dropResponseRate: 1, random: () => (draws++ === 0 ? 0 : 1) },
    })
    const delivery = { purpose: PURPOSE, sbd: arkivmeldingSbd(), files }
    const first = await sendDpf(deps, delivery)
    expect(first).toMatchObject({ outcome: 'retry' })
    expect(await handoverOf(db.kysely, PURPOSE)).toBe('sending')
    const [stored, ...more] = await forsendelser()
    expect(more).toEqual([])
    expect(await sendDpf(deps, delivery)).toEqual({
      outcome: 'delivered',
      reference: stored!.id,
      statuses: [{ status: 'LEVERT' }],
    })
    expect(await handoverOf(db.kysely, PURPOSE)).toBe(stored!.id)
    // and once the id is recorded SvarUt is not asked again
    expect(await sendDpf(deps, delivery)).toMatchObject({ outcome: 'delivered', reference: stored!.id })
    expect(await forsendelser()).toHaveLength(1)
    expect(draws).toBe(2)
  })

  it('sends when the in-flight marker is there but SvarUt has no forsendelse with the messageId', async () => {
    const { deps, files, forsendelser, db } = await setUp()
    await recordHandover(db.kysely, PURPOSE, 'sending', Date.now())
    const outcome = await sendDpf(deps, { purpose: PURPOSE, sbd: arkivmeldingSbd(), files })
    const all = await forsendelser()
    expect(all).toHaveLength(1)
    expect(outcome).toMatchObject({ outcome: 'delivered', reference: all[0]!.id })
  })

  it("fails with SvarUt's message when it refuses the forsendelse (400)", async () => {
    const { deps, files, forsendelser } = await setUp()
    const sbd = arkivmeldingSbd({ forsendelseType: 'Ukjent type' })
    const outcome = await sendDpf(deps, { purpose: PURPOSE, sbd, files })
    expect(outcome.outcome).toBe('failed')
    expect((outcome as { reason: string }).reason).toMatch(
      /^SvarUt POST \/api\/v3\/kontoer\/.*\/forsendelser\/organisasjon answered 400: Ugyldig forsendelse: .*forsendelsestype/,
    )
    expect(await forsendelser()).toEqual([])
  })

  it('tries again later when SvarUt is unavailable (503)', async () => {
    const { deps, files, forsendelser } = await setUp({ faults: { errorRate: 1, random: () => 0 } })
    const outcome = await sendDpf(deps, { purpose: PURPOSE, sbd: arkivmeldingSbd(), files })
    expect(outcome).toEqual({
      outcome: 'retry',
      reason: expect.stringContaining('answered 503: Injected fault: SvarUt is unavailable'),
    })
    expect(await forsendelser()).toEqual([])
  })

  it('tries again, sending nothing, while a stored document is missing', async () => {
    const { deps, files, forsendelser, db, payloads } = await setUp()
    await payloads.remove(files[1]!.storage_key)
    const outcome = await sendDpf(deps, { purpose: PURPOSE, sbd: arkivmeldingSbd(), files })
    expect(outcome).toEqual({
      outcome: 'retry',
      reason: 'its stored file vedlegg.docx is missing; tried again until it is back',
    })
    expect(await handoverOf(db.kysely, PURPOSE)).toBeNull()
    expect(await forsendelser()).toEqual([])
  })

  it('tries again when a stored document fails as SvarUt reads it, whatever SvarUt answers then', async () => {
    const { deps, files, forsendelser } = await setUp()
    const broken = {
      ...deps.payloads,
      read: (key: string) =>
        key === files[1]!.storage_key
          ? Readable.from(
              (async function* () {
                yield Buffer.from('the first bytes of the file')
                throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
              })(),
            )
          : deps.payloads.read(key),
    }
    const outcome = await sendDpf(
      { ...deps, payloads: broken },
      { purpose: PURPOSE, sbd: arkivmeldingSbd(), files },
    )
    expect(outcome).toEqual({
      outcome: 'retry',
      reason: 'its stored file vedlegg.docx could not be read: EIO: i/o error, read; tried again later',
    })
    expect(await forsendelser()).toEqual([])
  })

  it('tries again while the ServiceRegistry is unavailable, and fails when it does not know the receiver', async () => {
    const down = await setUp({ registryError: new ServiceRegistryUnavailableError('SR answered 503') })
    const delivery = { purpose: PURPOSE, sbd: arkivmeldingSbd(), files: down.files }
    expect(await sendDpf(down.deps, delivery)).toEqual({
      outcome: 'retry',
      reason: 'the ServiceRegistry: SR answered 503',
    })
    const unknown = await setUp({ registryError: new NotFoundInServiceRegistryError('not found') })
    expect(await sendDpf(unknown.deps, { ...delivery, files: unknown.files })).toEqual({
      outcome: 'failed',
      reason: 'the ServiceRegistry: not found',
    })
    expect([...(await down.forsendelser()), ...(await unknown.forsendelser())]).toEqual([])
  })

  it('a 100 MiB document goes through with the memory of a small one', async () => {
    const { deps, files, payloads, forsendelser } = await setUp()
    const TOTAL = 100 * 1024 * 1024
    const big = generatedStream(TOTAL, 7)
    await payloads.write('out/big', big.stream, { maxBytes: TOTAL, onLimit: () => new Error('too big') })
    const digest = big.digest()
    const withBig = files.map((f) =>
      f.filename === 'vedtak.pdf' ? { ...f, storage_key: 'out/big', size: TOTAL } : f,
    )
    // what is alive after full collections, not RSS: the runtime (Node.js 24 above all) collects
    // freed buffers late, so RSS grows with garbage that a busy machine has yet to give back
    const memory = liveMemorySampler()
    memory.phase = 'read'
    let read = 0
    let next = 0
    // samples the memory every 5 MiB as the big file is read: holding it would add up to 100 MiB
    const sampled = {
      ...payloads,
      read: (key: string) =>
        key !== 'out/big'
          ? payloads.read(key)
          : payloads.read(key).pipe(
              new Transform({
                transform(chunk: Buffer, _enc, done) {
                  read += chunk.length
                  if (read >= next) {
                    next += 5 * 1024 * 1024
                    memory.sample()
                  }
                  done(null, chunk)
                },
              }),
            ),
    }
    const outcome = await sendDpf(
      { ...deps, payloads: sampled },
      { purpose: PURPOSE, sbd: arkivmeldingSbd(), files: withBig },
    )
    memory.phase = 'after'
    memory.stop()
    expect(outcome).toMatchObject({ outcome: 'delivered' })
    expect(read).toBe(TOTAL)
    expect(memory.samples.read).toBeGreaterThanOrEqual(19)
    const { growth, said } = memory.report()
    expect(growth, said).toBeLessThan(32 * 1024 * 1024)
    const [stored] = await forsendelser()
    expect(stored!.dokumenter[0]).toEqual({
      filnavn: 'vedtak.pdf',
      mimeType: 'application/pdf',
      size: TOTAL,
      sha256: digest,
    })
  }, 120_000)
})

describe('sending to DPF what SvarUt does not carry', () => {
  /** deps whose every use fails the test: nothing may be looked up or sent */
  const untouchable = new Proxy({} as DpfSenderDeps, {
    get: (_, name) => {
      throw new Error(`${String(name)} must not be used`)
    },
  })

  it.each(['arkivmelding_kvittering', 'einnsyn_kvittering'])(
    'counts a %s as delivered and read and sends nothing, as the reference',
    async (type) => {
      const sbd = { ...arkivmeldingSbd(), type } as StandardBusinessDocument
      expect(await sendDpf(untouchable, { purpose: PURPOSE, sbd, files: [] })).toEqual({
        outcome: 'delivered',
        statuses: [{ status: 'LEVERT' }, { status: 'LEST' }],
      })
    },
  )

  it('has nowhere to send a status message', async () => {
    const sbd = { ...arkivmeldingSbd(), type: 'status' } as StandardBusinessDocument
    expect(await sendDpf(untouchable, { purpose: PURPOSE, sbd, files: [] })).toEqual({ outcome: 'delivered' })
  })

  it('fails any other type for good', async () => {
    const sbd = { ...arkivmeldingSbd(), type: 'digital' } as StandardBusinessDocument
    expect(await sendDpf(untouchable, { purpose: PURPOSE, sbd, files: [] })).toEqual({
      outcome: 'failed',
      reason: 'DPF carries arkivmelding and receipts, not digital',
    })
  })
})

interface SandboxItem {
  id: string
  eksternRef: string
  tittel: string
  avsender: string
  forsendelse: Record<string, unknown>
  dokumenter: { filnavn: string; mimeType: string; size: number; sha256: string }[]
}
