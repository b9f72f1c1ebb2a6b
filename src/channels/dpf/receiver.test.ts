import { createCipheriv, createHash, randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { type FileHandle, open, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { pipeline } from 'node:stream/promises'
import SQLite from 'better-sqlite3'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import yazl from 'yazl'
import { liveBytes } from '../../../test/support/live-memory.js'
import { loadConfig } from '../../config/load.js'
import type { Config } from '../../config/types.js'
import { createLocalPayloadStore, type PayloadStore } from '../../files/payload-store.js'
import { readAsic } from '../../packaging/asic.js'
import { decryptStream, encryptStream } from '../../packaging/cms.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import { makeIdentity, makeTempDir, type TestIdentity } from '../../packaging/test-support.js'
import { getMessageId } from '../../sbd/accessors.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { type SvarUtStandIn, startSvarUt } from '../../standins/svarut/server.js'
import { SANDBOX_PASSWORD } from '../../standins/svarut/settings.js'
import { KOMMUNE, multipart, ORG_A, ORG_B } from '../../standins/svarut/test-support.js'
import { systemClock } from '../../util/time.js'
import type { Intake } from '../ports.js'
import { FiksError } from './errors.js'
import { pollSvarInn, type SvarInnReceiverDeps } from './receiver.js'
import { createSvarInnClient, type SvarInnClient } from './svarinn-client.js'

// The receiver against the SvarUt stand-in: B's mottakersystem encrypts to the identity B holds; A's to
// a certificate whose key the test's receiver does not have (every download to A is poison).

let tmp: ReturnType<typeof makeTempDir>
let me: TestIdentity
let stranger: TestIdentity
let svarut: SvarUtStandIn
let config: Config
const clients: SvarInnClient[] = []

beforeAll(async () => {
  tmp = makeTempDir('dpf-receiver-')
  me = makeIdentity(tmp.dir, 'me')
  stranger = makeIdentity(tmp.dir, 'stranger')
  svarut = await startSvarUt({
    port: 0,
    dataDir: join(tmp.dir, 'svarut'),
    logger: pino({ level: 'silent' }),
    settings: {
      mottakersystemer: [
        { username: ORG_B, password: SANDBOX_PASSWORD, orgnr: ORG_B, certificatePem: me.certPem },
        { username: ORG_A, password: SANDBOX_PASSWORD, orgnr: ORG_A, certificatePem: stranger.certPem },
      ],
    },
  })
  config = loadConfig({
    cwd: tmp.dir,
    env: {},
    overrides: {
      'difi.move.org.number': ORG_B,
      'difi.security.enable': 'false',
      'difi.ssl.enabled': 'false',
    },
  })
}, 60_000)
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await svarut.close()
  tmp.cleanup()
})

const PDF = Buffer.from('%PDF-1.4 vedtak\n%%EOF\n')
const DOCX = Buffer.from('PK docx-ish vedlegg bytes')

interface Taken {
  sbd: StandardBusinessDocument
  transferRef: string
  authenticatedSender: string
  /** the ASiC-E's files in order, name → bytes (or sha256 when discarded) */
  files: { filename: string; mimeType: string | null; sha256: string; bytes: Buffer | null }[]
  /** the forsendelse's status at the stand-in while take ran */
  statusDuringTake: string
}

/** An intake that keeps what it is given, opening the package as the fagsystem would. */
class FakeIntake implements Intake {
  taken: Taken[] = []
  refused: { transferRef: string; reason: string }[] = []
  received = new Set<string>()
  failNext = false
  constructor(
    private readonly tempDir: string,
    private readonly discardData = false,
  ) {}

  async take(d: Parameters<Intake['take']>[0]): Promise<string> {
    try {
      if (this.failNext) {
        this.failNext = false
        throw new Error('the database is away')
      }
      const plain = join(this.tempDir, `${randomUUID()}.asice`)
      await pipeline(createReadStream(d.asic!.tempPath), decryptStream(me.keyPem), createWriteStream(plain))
      expect(d.asic!.size).toBe(readFileSync(d.asic!.tempPath).length)
      const read = await readAsic(plain, {
        maxEntries: 10,
        maxEntryBytes: 200 * 1024 * 1024,
        maxTotalBytes: 300 * 1024 * 1024,
        maxRatio: 1000,
        tempDir: this.tempDir,
        discardData: this.discardData,
      })
      expect(read.signatureValid).toBe(true)
      const files = read.files.map((f) => ({
        filename: f.filename,
        mimeType: f.mimeType,
        sha256: f.sha256,
        bytes: this.discardData ? null : readFileSync(f.path),
      }))
      await Promise.all([
        read.dir && rm(read.dir, { recursive: true, force: true }),
        rm(plain, { force: true }),
      ])
      const statusDuringTake = (await item(getMessageId(d.sbd)!)).status
      this.taken.push({ ...d, files, statusDuringTake })
      this.received.add(d.transferRef)
      return 'stored'
    } finally {
      await rm(d.asic!.tempPath, { force: true })
    }
  }

  async refuse(d: { transferRef: string; reason: string }): Promise<void> {
    this.refused.push(d)
    this.received.add(d.transferRef)
  }

  async alreadyReceived(transferRef: string): Promise<boolean> {
    return this.received.has(transferRef)
  }
}

let dirs: ReturnType<typeof makeTempDir>[] = []
afterEach(() => {
  for (const d of dirs) d.cleanup()
  dirs = []
})

function client(org: string): SvarInnClient {
  const c = createSvarInnClient({
    baseUrl: `${svarut.url}/tjenester/svarinn`,
    username: org,
    password: SANDBOX_PASSWORD,
    connectTimeoutMs: 5000,
    readTimeoutMs: 60_000,
  })
  clients.push(c)
  return c
}

function receiver(o: { org?: string; client?: SvarInnClient; discardData?: boolean } = {}) {
  const dir = makeTempDir('dpf-receiver-case-')
  dirs.push(dir)
  const payloads: PayloadStore = createLocalPayloadStore(join(dir.dir, 'payloads'))
  const intake = new FakeIntake(dir.dir, o.discardData)
  const keys: BusinessKeys = { keyPem: me.keyPem, certPem: me.certPem, chainPem: [] }
  const deps: SvarInnReceiverDeps = {
    config,
    clock: systemClock,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    payloads,
    keys,
    client: o.client ?? client(o.org ?? ORG_B),
    intake,
    newUuid: randomUUID,
  }
  const leftovers = () => readdirSync(payloads.tempDir)
  return { deps, intake, leftovers, poll: () => pollSvarInn(deps) }
}

/** The municipality sends `files` to `mottaker`'s SvarInn through the stand-in's sandbox API. */
async function sendFromKommune(
  files: { name: string; bytes: Buffer; type: string }[] = [
    { name: 'vedtak.pdf', bytes: PDF, type: 'application/pdf' },
    {
      name: 'vedlegg.docx',
      bytes: DOCX,
      type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    },
  ],
  mottaker = ORG_B,
): Promise<string> {
  const { body, contentType } = multipart([
    {
      name: 'forsendelse',
      body: JSON.stringify({
        avsender: KOMMUNE,
        mottaker,
        tittel: 'Svar på byggesøknad',
        metadataFraAvleverendeSystem: { saksaar: 2026, sakssekvensnummer: 7, tittel: 'Svar i sak 2026/7' },
      }),
    },
    ...files.map((f, i) => ({ name: `fil_${i}`, filename: f.name, type: f.type, body: f.bytes })),
  ])
  const res = await fetch(`${svarut.url}/sandbox/api/forsendelser`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(body),
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return ((await res.json()) as { id: string }).id
}

async function item(id: string): Promise<{ status: string; hendelser: { hendelse: string }[] }> {
  return (await fetch(`${svarut.url}/sandbox/api/forsendelser/${id}`)).json() as Promise<{
    status: string
    hendelser: { hendelse: string }[]
  }>
}

async function listed(org: string): Promise<string[]> {
  return (await client(org).hentNyeForsendelser()).map((f) => (f as { id: string }).id)
}

describe('pollSvarInn', () => {
  it('takes a forsendelse in as an arkivmelding ASiC-E with its documents intact, then acknowledges it', async () => {
    const r = receiver()
    const id = await sendFromKommune()
    expect(await r.poll()).toBe(1)

    expect(r.intake.taken).toHaveLength(1)
    const t = r.intake.taken[0]!
    expect(t.transferRef).toBe(`svarinn:${id}`)
    expect(t.authenticatedSender).toBe(`0192:${KOMMUNE}`)
    expect(getMessageId(t.sbd)).toBe(id)
    expect(t.sbd.type).toBe('arkivmelding')
    expect(t.sbd.standardBusinessDocumentHeader.receiver?.[0]?.identifier?.value).toBe(`0192:${ORG_B}`)
    // the eFormidling manifest first (the writer's), then arkivmelding.xml as the primary document
    expect(t.files.map((f) => f.filename)).toEqual([
      'manifest.xml',
      'arkivmelding.xml',
      'vedtak.pdf',
      'vedlegg.docx',
    ])
    expect(t.files[0]!.bytes!.toString('utf8')).toContain('arkivmelding.xml')
    const xml = t.files[1]!.bytes!.toString('utf8')
    expect(xml).toContain(`<meldingId>${id}</meldingId>`)
    expect(xml).toContain('<referanseDokumentfil>vedlegg.docx</referanseDokumentfil>')
    expect(xml).toContain('<tittel>Svar i sak 2026/7</tittel>')
    expect(t.files[2]!.bytes).toEqual(PDF)
    expect(t.files[2]!.mimeType).toBe('application/pdf')
    expect(t.files[3]!.bytes).toEqual(DOCX)

    // acknowledged only after take: SvarUt saw it waiting while it was taken in, LEST after
    expect(t.statusDuringTake).toBe('KLAR_FOR_MOTTAK')
    expect((await item(id)).status).toBe('LEST')
    expect(await listed(ORG_B)).not.toContain(id)
    expect(await r.poll()).toBe(0)
    expect(r.leftovers()).toEqual([])
  })

  it.skipIf(process.platform !== 'linux')(
    'fsyncs the ASiC-E before the intake may adopt it by a rename (a file store)',
    async () => {
      // which files were fsynced, by the path of the descriptor (Linux: /proc/self/fd)
      const probe = await open(join(tmp.dir, 'probe'), 'w')
      const proto = Object.getPrototypeOf(probe) as FileHandle
      await probe.close()
      const synced = new Set<string>()
      const sync = proto.sync
      const spy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: FileHandle) {
        synced.add(readlinkSync(`/proc/self/fd/${this.fd}`))
        await sync.call(this)
      })
      try {
        const r = receiver()
        const take = r.intake.take.bind(r.intake)
        const syncedAtTake: boolean[] = []
        r.intake.take = async (d) => {
          syncedAtTake.push(synced.has(d.asic!.tempPath))
          return take(d)
        }
        await sendFromKommune()
        expect(await r.poll()).toBe(1)
        expect(syncedAtTake).toEqual([true])
      } finally {
        spy.mockRestore()
      }
    },
  )

  it('leaves a forsendelse unacknowledged when take fails, and takes it in at the next round', async () => {
    const r = receiver()
    const id = await sendFromKommune()
    r.intake.failNext = true
    expect(await r.poll()).toBe(0)
    expect((await item(id)).status).toBe('KLAR_FOR_MOTTAK')
    expect(r.intake.refused).toEqual([])
    expect(r.leftovers()).toEqual([])

    expect(await r.poll()).toBe(1)
    expect(r.intake.taken.map((t) => t.transferRef)).toEqual([`svarinn:${id}`])
    expect((await item(id)).status).toBe('LEST')
  })

  it('only acknowledges a forsendelse taken in before (a restart between commit and kvitterMottak)', async () => {
    const r = receiver()
    const id = await sendFromKommune()
    r.intake.received.add(`svarinn:${id}`)
    const downloads = (await fetch(`${svarut.url}/sandbox/api/forsendelser/${id}`).then((x) => x.json()))
      .downloads
    expect(await r.poll()).toBe(1)
    expect(r.intake.taken).toEqual([])
    expect((await item(id)).status).toBe('LEST')
    const after = (await fetch(`${svarut.url}/sandbox/api/forsendelser/${id}`).then((x) => x.json()))
      .downloads
    expect(after).toBe(downloads)
  })

  it('reports bad metadata as failed for good, refuses it, and never lists it again', async () => {
    const r = receiver()
    const id = await sendFromKommune()
    // SvarInn lists it with a receiver that is no organisation number
    const db = new SQLite(join(tmp.dir, 'svarut', 'svarut.sqlite'))
    db.prepare("UPDATE forsendelse SET mottaker_orgnr = 'ikke-et-orgnr' WHERE id = ?").run(id)
    db.close()
    expect(await r.poll()).toBe(1)
    expect(r.intake.taken).toEqual([])
    expect(r.intake.refused).toHaveLength(1)
    expect(r.intake.refused[0]!.transferRef).toBe(`svarinn:${id}`)
    expect(r.intake.refused[0]!.reason).toContain('mottaker.orgnr')
    const after = await item(id)
    expect(after.status).toBe('VARSLET')
    expect(after.hendelser.at(-1)!.hendelse).toContain('(permanent)')
    expect(await listed(ORG_B)).not.toContain(id)
    expect(await r.poll()).toBe(0)
  })

  it('reports a forsendelse encrypted to another certificate as failed for good', async () => {
    const r = receiver({ org: ORG_A })
    const id = await sendFromKommune(undefined, ORG_A)
    expect(await r.poll()).toBe(1)
    expect(r.intake.taken).toEqual([])
    expect(r.intake.refused.map((x) => x.transferRef)).toEqual([`svarinn:${id}`])
    expect(r.intake.refused[0]!.reason).toMatch(/cannot be decrypted/)
    expect((await item(id)).status).toBe('VARSLET')
    expect(await listed(ORG_A)).not.toContain(id)
    expect(r.leftovers()).toEqual([])
  })

  const zipOf = async (entries: [string, Buffer][]) => {
    const zip = new yazl.ZipFile()
    for (const [name, bytes] of entries) zip.addBuffer(bytes, name)
    zip.end()
    return buffer(zip.outputStream)
  }
  const POISON: [string, () => Promise<Buffer>, RegExp][] = [
    ['not a zip', async () => Buffer.from('no zip here, just text'), /not a readable zip/],
    [
      'a zip without a document filmetadata lists',
      () => zipOf([['vedtak.pdf', PDF]]),
      /does not hold vedlegg\.docx/,
    ],
    [
      'a zip bomb',
      () =>
        zipOf([
          ['vedtak.pdf', Buffer.alloc(8 * 1024 * 1024)],
          ['vedlegg.docx', DOCX],
        ]),
      /zip bomb/,
    ],
  ]
  it.each(POISON)('reports %s as failed for good', async (_what, zip, reason) => {
    // SvarInn's list as it is, the download replaced by the poison, encrypted to us as SvarInn would
    const real = client(ORG_B)
    const poison: SvarInnClient = {
      ...real,
      download: async () => Readable.from([await zip()]).pipe(encryptStream(me.certPem)),
    }
    const r = receiver({ client: poison })
    const id = await sendFromKommune()
    expect(await r.poll()).toBe(1)
    expect(r.intake.taken).toEqual([])
    expect(r.intake.refused).toHaveLength(1)
    expect(r.intake.refused[0]!.reason).toMatch(reason)
    expect((await item(id)).status).toBe('VARSLET')
    expect(r.leftovers()).toEqual([])
  })

  it('counts a document inflated once against its bounds, though the ASiC-E writer reads it twice', async () => {
    // inflates to 3/4 of the ratio bound (the zip is under its 1 MiB floor): counted twice, it would be over
    const maxRatio = 4
    const size = 0.75 * maxRatio * 1024 * 1024
    const seed = createHash('sha512')
    const random = Array.from({ length: (size / maxRatio + 64 * 1024) / 64 }, (_, i) =>
      seed.copy().update(`${i}`).digest(),
    )
    const document = Buffer.concat([...random, Buffer.alloc(size - random.length * 64)])
    const zip = await zipOf([
      ['vedtak.pdf', document],
      ['vedlegg.docx', DOCX],
    ])
    expect(zip.length).toBeLessThan(1024 * 1024)
    const real = client(ORG_B)
    const r = receiver({
      client: { ...real, download: async () => Readable.from([zip]).pipe(encryptStream(me.certPem)) },
    })
    r.deps.config = { ...config, nextmove: { ...config.nextmove, maxCompressionRatio: maxRatio } }
    await sendFromKommune()
    expect(await r.poll()).toBe(1)
    expect(r.intake.refused.map((x) => x.reason)).toEqual([])
    expect(r.intake.taken[0]!.files[2]!.bytes!.equals(document)).toBe(true)
  })

  it('leaves a forsendelse whose download fails in passing for the next round, and goes on with the others', async () => {
    const real = client(ORG_B)
    const first = await sendFromKommune()
    const second = await sendFromKommune()
    const flaky: SvarInnClient = {
      ...real,
      download: async (url) => {
        if (url.endsWith(first))
          throw new FiksError('SvarInn GET answered 503', { status: 503, retryable: true })
        return real.download(url)
      },
    }
    const r = receiver({ client: flaky })
    expect(await r.poll()).toBe(1)
    expect(r.intake.taken.map((t) => t.transferRef)).toEqual([`svarinn:${second}`])
    expect(r.intake.refused).toEqual([])
    expect((await item(first)).status).toBe('KLAR_FOR_MOTTAK')
    expect((await item(second)).status).toBe('LEST')

    expect(await receiver().poll()).toBe(1)
    expect((await item(first)).status).toBe('LEST')
  })

  it('takes in a 192 MiB document in constant memory', async () => {
    // large beside the bound below: a runtime's garbage (Node.js 24 collects lazily) is not mistaken for
    // the document held, which would add all of its 192 MiB
    const TOTAL = 192 * 1024 * 1024
    // incompressible, as a real document's bytes are, and the same every time
    const pieces = function* () {
      const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16))
      const zero = Buffer.alloc(1024 * 1024)
      for (let n = 0; n < TOTAL / zero.length; n++) yield cipher.update(zero)
    }
    const hash = createHash('sha256')
    for (const p of pieces()) hash.update(p)
    const id = await streamSend('stor.pdf', pieces)

    const r = receiver({ discardData: true })
    const live = liveBytes()
    const start = live()
    let peak = start
    const sampler = setInterval(() => {
      peak = Math.max(peak, live())
    }, 100)
    try {
      expect(await r.poll()).toBe(1)
    } finally {
      clearInterval(sampler)
    }
    const files = r.intake.taken[0]!.files
    expect(files.map((f) => f.filename)).toEqual(['manifest.xml', 'arkivmelding.xml', 'stor.pdf'])
    expect(files[2]!.sha256).toBe(hash.digest('hex'))
    expect((await item(id)).status).toBe('LEST')
    // holding the document once would add 192 MiB
    expect(peak - start).toBeLessThan(64 * 1024 * 1024)
    expect(r.leftovers()).toEqual([])
  }, 180_000)
})

/** The sandbox's send with one large document, streamed from `pieces`. */
function streamSend(filename: string, pieces: () => Generator<Buffer>): Promise<string> {
  const boundary = 'dpf-receiver-boundary'
  const f = { avsender: KOMMUNE, mottaker: ORG_B, tittel: 'Stor forsendelse' }
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="forsendelse"\r\n\r\n${JSON.stringify(f)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="fil_0"; filename="${filename}"\r\nContent-Type: application/pdf\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const { hostname, port } = new URL(svarut.url)
  return new Promise((resolve, reject) => {
    const req = request({
      host: hostname,
      port,
      path: '/sandbox/api/forsendelser',
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(JSON.parse(text).id)
          : reject(new Error(`${res.statusCode}: ${text}`)),
      )
    })
    req.on('error', reject)
    const body = function* () {
      yield head
      yield* pieces()
      yield tail
    }
    pipeline(Readable.from(body()), req).catch(reject)
  })
}
