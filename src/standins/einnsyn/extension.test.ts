import { randomUUID } from 'node:crypto'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeBody, encodeBody } from '../../channels/dpe/body.js'
import { readAsic, writeAsic } from '../../packaging/asic.js'
import { decryptStream, encryptStream } from '../../packaging/cms.js'
import { parseSbd } from '../../sbd/parse.js'
import { systemClock } from '../../util/time.js'
import { type Harness, harness } from '../service-bus/test-support.js'
import { createCredentialStore } from '../service-registry/credentials.js'
import { type ServiceRegistryStandIn, startServiceRegistry } from '../service-registry/server.js'
import { einnsynExtension } from './extension.js'
import { innsynskravSbd, PROCESS, statusSbd } from './messages.js'

const AGENCY = '910075918'
const AGENCY_QUEUE = `nextbestqueue${AGENCY}innsyn`
const DATA_QUEUE = 'nextbestqueue910076787data'
const logger = pino({ level: 'silent' })

let registryDir: string
let tempDir: string
let registry: ServiceRegistryStandIn
let h: Harness
let extension: ReturnType<typeof einnsynExtension>

beforeAll(async () => {
  registryDir = mkdtempSync(join(tmpdir(), 'einnsyn-registry-'))
  tempDir = mkdtempSync(join(tmpdir(), 'einnsyn-test-'))
  registry = await startServiceRegistry({ port: 0, dataDir: registryDir, logger, watch: false })
  // the system clock: the ASiC's signing time must fall within the generated certificates' validity
  extension = einnsynExtension({
    registryDataDir: registryDir,
    registryUrl: registry.url,
    clock: systemClock,
    logger,
  })
  h = await harness({ extensions: [extension] })
})

afterAll(async () => {
  await h?.close()
  await registry?.close()
  rmSync(registryDir, { recursive: true, force: true })
  rmSync(tempDir, { recursive: true, force: true })
})

/** an organisation's generated key pair, as the ServiceRegistry stand-in made it */
async function keysOf(orgnr: string) {
  const c = await createCredentialStore(registryDir, systemClock).get(orgnr, { commonName: orgnr })
  return {
    keyPem: c.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: c.certificate.toString(),
  }
}

const virksert = async (orgnr: string) => (await fetch(`${registry.url}/virksert/${orgnr}`)).text()

async function api(path: string, body?: unknown) {
  const res = await fetch(`${h.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

/** takes the head of a queue (peek-lock and complete) and decodes its body; undefined when empty */
async function take(queue: string) {
  const res = await h.head(queue)
  if (res.status === 204) return undefined
  expect(res.status).toBe(201)
  const raw = Buffer.from(await res.arrayBuffer())
  expect((await h.call(new URL(res.headers.get('location')!).pathname, { method: 'DELETE' })).status).toBe(
    200,
  )
  return { raw, ...decodeBody(raw, 1 << 24) }
}

async function openCms(cms: Buffer, keys: { keyPem: string; certPem: string }) {
  const file = join(tempDir, `${randomUUID()}.zip`)
  await pipeline(Readable.from([cms]), decryptStream(keys.keyPem, keys.certPem), createWriteStream(file))
  return readAsic(file, {
    maxEntries: 20,
    maxEntryBytes: 1 << 20,
    maxTotalBytes: 1 << 22,
    maxRatio: 100,
    tempDir,
  })
}

/** a DPE body as an agency's integration point writes it: a publisering with journalpost.json */
async function publisering(journalpost: string, signer = AGENCY) {
  const messageId = randomUUID()
  const conversationId = randomUUID()
  const sbd = innsynskravSbd({
    orgnr: AGENCY,
    email: 'x@example.com',
    messageId,
    conversationId,
    now: new Date(),
  })
  // the same header turned round: from the agency to eInnsyn, a publisering of journal posts
  const header = sbd.standardBusinessDocumentHeader as any
  ;[header.sender, header.receiver] = [header.receiver, header.sender]
  header.documentIdentification.type = 'publisering'
  header.documentIdentification.standard = 'urn:no:difi:einnsyn:xsd::publisering'
  header.businessScope.scope[0].identifier = PROCESS.journalpost
  const doc = { standardBusinessDocumentHeader: header, publisering: { orgnr: AGENCY } }
  const asic = writeAsic({
    sender: `0192:${AGENCY}`,
    receiver: '0192:910076787',
    documents: [
      {
        filename: 'journalpost.json',
        mimeType: 'application/json',
        primary: true,
        open: () => Readable.from([Buffer.from(journalpost)]),
      },
    ],
    signer: await keysOf(signer),
  })
  const chunks: Buffer[] = []
  await pipeline(
    asic,
    encryptStream(await virksert('910076787'), { keyEncryption: 'rsa-pkcs1' }),
    async (s) => {
      for await (const c of s) chunks.push(c as Buffer)
    },
  )
  return { messageId, conversationId, body: encodeBody(doc, Buffer.concat(chunks)) }
}

describe('eInnsyn stand-in', () => {
  it('sends an innsynskrav to the agency queue, encrypted to its certificate, with order.xml signed by eInnsyn', async () => {
    const sent = await api('/sandbox/api/innsynskrav', {
      to: AGENCY,
      email: 'ola@example.com',
      name: '<Ola>',
      documents: [{ journalpostId: '2026/1-1', tittel: 'Brev & svar' }, { journalpostId: 42 }],
    })
    expect(sent.status).toBe(201)
    expect(sent.body).toEqual({
      messageId: expect.any(String),
      conversationId: expect.any(String),
      queue: AGENCY_QUEUE,
    })
    const m = (await take(AGENCY_QUEUE))!
    // the reference's double base64: one layer off, the CMS's BER start (30 80 06 09 2A 86 48 86 F7 0D 01 07 03) in base64
    const once = Buffer.from(JSON.parse(m.raw.toString()).asic, 'base64').toString('latin1')
    expect(once.startsWith('MIAGCSqGSIb3DQEHA6CA')).toBe(true)
    const sbd = parseSbd(m.sbd)
    expect(sbd.type).toBe('innsynskrav')
    expect(sbd.businessMessage).toMatchObject({ orgnr: AGENCY, epost: 'ola@example.com' })
    const header = sbd.standardBusinessDocumentHeader
    expect(header.sender?.[0]?.identifier?.value).toBe('0192:910076787')
    expect(header.receiver?.[0]?.identifier?.value).toBe(`0192:${AGENCY}`)
    expect(header.documentIdentification).toMatchObject({
      standard: 'urn:no:difi:einnsyn:xsd::innsynskrav',
      instanceIdentifier: sent.body.messageId,
    })
    expect(header.businessScope?.scope?.[0]).toMatchObject({
      instanceIdentifier: sent.body.conversationId,
      identifier: 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
    })
    const asic = await openCms(m.cms!, await keysOf(AGENCY))
    expect(asic.signatureValid).toBe(true)
    expect(asic.signerCertPem).toBe(await virksert('910076787'))
    const order = await readFile(asic.files.find((f) => f.filename === 'order.xml')!.path, 'utf8')
    expect(order).toContain('<bestilling>')
    expect(order).toContain('<journalpostId>2026/1-1</journalpostId>')
    expect(order).toContain('<journalpostId>42</journalpostId>')
    expect(order).toContain('<tittel>Brev &amp; svar</tittel>')
    expect(order).toContain('<navn>&lt;Ola&gt;</navn>')
    const list = await api('/sandbox/api/innsynskrav')
    expect(list.body.find((k: any) => k.messageId === sent.body.messageId)).toMatchObject({
      to: AGENCY,
      statuses: [],
    })
    const page = await (await fetch(`${h.url}/sandbox`)).text()
    expect(page).toContain('eInnsyn (910076787)')
    expect(page).not.toContain('<Ola>')
  })

  it('refuses an innsynskrav without documents, and one for an organisation the registry has no certificate for', async () => {
    const empty = await api('/sandbox/api/innsynskrav', { to: AGENCY, email: 'a@b.no', documents: [] })
    expect(empty.status).toBe(400)
    expect(empty.body.error).toMatch(/documents/)
    const unknown = await api('/sandbox/api/innsynskrav', {
      to: '999999999',
      email: 'a@b.no',
      documents: [{ journalpostId: '1' }],
    })
    expect(unknown.status).toBe(422)
    expect((await h.head('nextbestqueue999999999innsyn')).status).toBe(204)
  })

  it("answers a publisering with MOTTATT, LEVERT and an einnsyn_kvittering on the sender's innsyn queue, once", async () => {
    const journalpost = JSON.stringify({ '@id': 'http://example.com/jp/1', offentligTittel: 'Søknad' })
    const pub = await publisering(journalpost)
    expect((await h.send(DATA_QUEUE, pub.body)).status).toBe(201)
    await extension.tick()
    const answers = [await take(AGENCY_QUEUE), await take(AGENCY_QUEUE), await take(AGENCY_QUEUE)].map((a) =>
      parseSbd(a!.sbd),
    )
    expect(await take(AGENCY_QUEUE)).toBeUndefined()
    expect(answers.map((a) => a.type)).toEqual(['status', 'status', 'einnsyn_kvittering'])
    expect(answers.map((a) => a.businessMessage.status).slice(0, 2)).toEqual(['MOTTATT', 'LEVERT'])
    for (const status of answers.slice(0, 2)) {
      const header = status.standardBusinessDocumentHeader
      expect(header.documentIdentification?.instanceIdentifier).toBe(pub.messageId)
      expect(header.businessScope?.scope?.[0]).toMatchObject({
        instanceIdentifier: pub.conversationId,
        identifier: PROCESS.response,
      })
      expect(header.receiver?.[0]?.identifier?.value).toBe(`0192:${AGENCY}`)
    }
    const kvittering = answers[2]!
    expect(kvittering.businessMessage).toMatchObject({
      referanseType: 'publisering',
      dokumentId: 'http://example.com/jp/1',
    })
    expect(JSON.parse(kvittering.businessMessage.status as string)).toMatchObject({ publisert: true })
    // taken from eInnsyn's queue
    const queues = (await api('/sandbox/api/queues')).body
    expect(queues.find((q: any) => q.name === DATA_QUEUE)).toMatchObject({
      active: 0,
      locked: 0,
      deadLettered: 0,
    })
    const [row] = (await api('/sandbox/api/publiseringer')).body
    expect(row).toMatchObject({
      messageId: pub.messageId,
      outcome: 'answered',
      content: journalpost,
      sender: AGENCY,
    })
    // the same publisering again (a retry after a lost answer): taken, not answered twice
    expect((await h.send(DATA_QUEUE, pub.body)).status).toBe(201)
    await extension.tick()
    expect(await take(AGENCY_QUEUE)).toBeUndefined()
    expect((await api('/sandbox/api/publiseringer')).body).toHaveLength(1)
  })

  it("refuses a publisering not signed with the sender's certificate, and answers nothing", async () => {
    const pub = await publisering('{"id":"2"}', '910077473')
    await h.send(DATA_QUEUE, pub.body)
    await extension.tick()
    expect(await take(AGENCY_QUEUE)).toBeUndefined()
    const row = (await api('/sandbox/api/publiseringer')).body.find((p: any) => p.messageId === pub.messageId)
    expect(row).toMatchObject({ outcome: 'refused', kvittering: null })
    expect(row.reason).toMatch(/sender's certificate/)
  })

  it('gives a publisering back while the registry cannot be reached, and answers it once the registry is back', async () => {
    const pub = await publisering('{"id":"3"}')
    const port = Number(new URL(registry.url).port)
    await registry.close()
    await h.send(DATA_QUEUE, pub.body)
    await extension.tick()
    expect(await take(AGENCY_QUEUE)).toBeUndefined()
    const waiting = (await api(`/sandbox/api/queues/${DATA_QUEUE}/messages`)).body
    // tried (once per round: the arrival's and this tick's) and given back, not completed
    expect(waiting).toMatchObject([{ state: 'active' }])
    expect(waiting[0].deliveryCount).toBeGreaterThanOrEqual(1)
    registry = await startServiceRegistry({ port, dataDir: registryDir, logger, watch: false })
    await extension.tick()
    const answers = [await take(AGENCY_QUEUE), await take(AGENCY_QUEUE), await take(AGENCY_QUEUE)]
    expect(answers.map((a) => parseSbd(a!.sbd).type)).toEqual(['status', 'status', 'einnsyn_kvittering'])
    expect((await api(`/sandbox/api/queues/${DATA_QUEUE}/messages`)).body).toEqual([])
  })

  it('records MOTTATT and LEVERT against the innsynskrav, anything else as other, and keeps it all over a restart', async () => {
    const sent = await api('/sandbox/api/innsynskrav', {
      to: AGENCY,
      email: 'kari@example.com',
      documents: [{ journalpostId: '7' }],
    })
    const m = (await take(AGENCY_QUEUE))!
    const krav = parseSbd(m.sbd)
    for (const status of ['MOTTATT', 'LEVERT'] as const)
      await h.send(DATA_QUEUE, encodeBody(statusSbd(krav, status, new Date()), null))
    // a status for a message eInnsyn never sent
    const stray = statusSbd(krav, 'MOTTATT', new Date()) as any
    stray.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier = randomUUID()
    await h.send(DATA_QUEUE, encodeBody(stray, null))
    await h.send(DATA_QUEUE, 'not json at all')
    await extension.tick()
    const statuses = async () =>
      (await api('/sandbox/api/innsynskrav')).body.find((k: any) => k.messageId === sent.body.messageId)
        .statuses
    expect((await statuses()).map((s: any) => s.status)).toEqual(['MOTTATT', 'LEVERT'])
    const other = (await api('/sandbox/api/einnsyn/other')).body
    expect(other.map((o: any) => o.note)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^not a DPE message/),
        expect.stringMatching(/no innsynskrav/),
      ]),
    )
    await h.restart()
    expect((await statuses()).map((s: any) => s.status)).toEqual(['MOTTATT', 'LEVERT'])
    expect((await api('/sandbox/api/publiseringer')).body.length).toBeGreaterThan(0)
    expect((await api('/sandbox/api/einnsyn/other')).body).toHaveLength(other.length)
  })
})
