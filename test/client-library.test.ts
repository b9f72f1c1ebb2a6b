import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  arkivmeldingKvitteringMessage,
  arkivmeldingMessage,
  BadRequestError,
  buildSbd,
  type IncomingMessage,
  IntegrasjonspunktClient,
  type MessageStatus,
  NotFoundError,
  type ProgressEvent,
} from '../packages/client/src/index.js'
import { type Sandbox, startSandbox } from '../src/sandbox.js'
import { arkivmeldingXml } from './support/arkivmelding.js'

const A = '910075918'
const B = '910077473'
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

/** The library end to end: 910075918 sends to 910077473 over DPO in the sandbox. */
describe('the client library against the sandbox', () => {
  let dir: string
  let sandbox: Sandbox
  let a: IntegrasjonspunktClient
  let b: IntegrasjonspunktClient

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'client-library-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    a = new IntegrasjonspunktClient({ url: sandbox.points[0]!.url, retryDelayMs: 20 })
    b = new IntegrasjonspunktClient({ url: sandbox.points[1]!.url, retryDelayMs: 20 })
  }, 60_000)

  afterAll(async () => {
    await a?.close()
    await b?.close()
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** An arkivmelding with its arkivmelding.xml naming the documents, written under the test folder. */
  function arkivmeldingFiles(name: string, documents: Record<string, Buffer>): string[] {
    const folder = mkdtempSync(join(dir, `${name}-`))
    const paths = Object.entries(documents).map(([filename, bytes]) => {
      writeFileSync(join(folder, filename), bytes)
      return join(folder, filename)
    })
    const xml = join(folder, 'arkivmelding.xml')
    writeFileSync(xml, arkivmeldingXml({ files: Object.keys(documents), title: name }))
    return [xml, ...paths]
  }

  const sbdTo = (receiver: string, hoveddokument: string) =>
    buildSbd({ sender: A, receiver, businessMessage: arkivmeldingMessage({ hoveddokument }) })

  /** Receives at B until every messageId has come, unpacking and deleting each. */
  async function receiveAtB(messageIds: string[]): Promise<Map<string, string[]>> {
    const got = new Map<string, string[]>()
    const deadline = Date.now() + 30_000
    while (got.size < messageIds.length && Date.now() < deadline) {
      for await (const message of b.receive({ once: true })) {
        expect(message).toMatchObject({
          sender: A,
          receiver: B,
          type: 'arkivmelding',
          serviceIdentifier: 'DPO',
        })
        got.set(message.messageId, await message.extract(join(dir, 'received', message.messageId)))
        await message.delete()
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    return got
  }

  it('answers capabilities and prototypes, and types its errors', async () => {
    const caps = await a.capabilities(B)
    const dpo = caps.capabilities.find((c) => c.serviceIdentifier === 'DPO')
    expect(dpo?.documentTypes.map((d) => d.type)).toContain('arkivmelding')

    const prototype = await a.prototype('arkivmelding', { receiver: B })
    expect(prototype.standardBusinessDocumentHeader.receiver?.[0]?.identifier.value).toBe(`0192:${B}`)
    expect('arkivmelding' in prototype).toBe(true)

    const unknown = await a.capabilities('123456785').catch((e) => e)
    expect(unknown).toBeInstanceOf(NotFoundError)
    expect(unknown.exceptionName).toBe('IdentifierNotFoundException')
    expect(unknown.exception).toBe('no.difi.meldingsutveksling.exceptions.IdentifierNotFoundException')

    const refused = await a
      .send(sbdTo('123456785', 'x.pdf'), [{ data: 'x', filename: 'x.pdf' }])
      .catch((e) => e)
    expect(refused).toBeInstanceOf(BadRequestError)
    expect(refused.exceptionName).toBe('ReceiverDoesNotAcceptProcessException')
    expect(await a.getOutgoing('no-such-message')).toBeUndefined()
    expect(await a.conversation('no-such-message')).toBeUndefined()
  })

  it('sends small files in one request and 6 MiB in steps, with progress; receives, unpacks, follows', async () => {
    // names beyond ASCII go through both the multipart part header and the upload's Content-Disposition
    const small = arkivmeldingFiles('small', { 'blåbær "vedtak".pdf': randomBytes(10_000) })
    const large = arkivmeldingFiles('large', { 'stor – fil.pdf': randomBytes(6 * 1024 * 1024) })
    const events: ProgressEvent[] = []
    const one = await a.send(
      sbdTo(B, 'blåbær "vedtak".pdf'),
      small.map((path) => ({ path })),
    )
    const two = await a.send(
      sbdTo(B, 'stor – fil.pdf'),
      large.map((path) => ({ path })),
      { onProgress: (p) => events.push(p) },
    )
    expect(one.mode).toBe('multipart')
    expect(two.mode).toBe('upload')
    const total = large.reduce((sum, p) => sum + readFileSync(p).length, 0)
    expect(events.at(-1)).toMatchObject({ filename: 'stor – fil.pdf', totalBytes: total, totalSent: total })
    const bigEvents = events.filter((e) => e.filename === 'stor – fil.pdf')
    expect(bigEvents.length).toBeGreaterThanOrEqual(96) // at least one per 64 KiB
    expect(bigEvents.every((e, i) => i === 0 || e.fileSent > bigEvents[i - 1]!.fileSent)).toBe(true)

    const received = await receiveAtB([one.messageId, two.messageId])
    for (const [result, originals] of [
      [one, small],
      [two, large],
    ] as const) {
      const paths = received.get(result.messageId)!
      expect(paths.map((p) => basename(p)).sort()).toEqual(originals.map((p) => basename(p)).sort())
      for (const original of originals) {
        const copy = paths.find((p) => basename(p) === basename(original))!
        expect(sha256(copy)).toBe(sha256(original))
      }
    }

    // B's fagsystem archives the first one and says so: an arkivmelding's timeline ends with LEST
    const receipt = buildSbd({
      sender: B,
      receiver: A,
      businessMessage: arkivmeldingKvitteringMessage({
        receiptType: 'OK',
        relatedToMessageId: one.messageId,
      }),
    })
    expect((await b.send(receipt, [])).mode).toBe('multipart')
    const timeline: MessageStatus[] = []
    // the conversation is finished at LEVERT; `until` waits for the receipt's LEST as well
    for await (const s of a.followStatuses(one.messageId, { intervalMs: 100, until: ['LEST'] }))
      timeline.push(s)
    expect(timeline.map((s) => s.status)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
    expect(await a.statuses(one.messageId)).toEqual(timeline)

    const delivered: string[] = []
    for await (const s of a.followStatuses(two.messageId, { intervalMs: 100, until: ['LEVERT'] }))
      delivered.push(s.status)
    expect(delivered).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    expect((await a.conversation(two.messageId))?.messageTitle).toBe('large')

    // the receipt reaches A's fagsystem too; it carries no ASiC-E
    let kvittering: IncomingMessage | undefined
    const handled = await a.receiveWith(
      async (m) => {
        kvittering = m
        expect(await m.asic()).toBeUndefined()
        expect(await m.extract(join(dir, 'kvittering'))).toEqual([])
        return 'delete'
      },
      { once: true },
    )
    expect(handled).toBe(1)
    expect(kvittering?.type).toBe('arkivmelding_kvittering')
  }, 60_000)
  it('removes the half-made message when a send in steps is stopped midway', async () => {
    const [xml, big] = arkivmeldingFiles('stopped', { 'stort.bin': randomBytes(12 * 1024 * 1024) })
    const sbd = sbdTo(B, 'stort.bin')
    const controller = new AbortController()
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier!
    const sending = a.send(sbd, [{ path: xml! }, { path: big! }], {
      signal: controller.signal,
      // stop once the large file is partly uploaded: the message exists in the outbox by then
      onProgress: (p) => {
        if (p.filename === 'stort.bin' && p.fileSent > 1024 * 1024) controller.abort()
      },
    })
    await expect(sending).rejects.toThrow()
    expect(controller.signal.aborted).toBe(true)
    expect(await a.getOutgoing(messageId)).toBeUndefined()
    const conversation = await a.conversation(messageId)
    expect(conversation?.messageStatuses?.map((s) => s.status) ?? []).not.toContain('SENDT')
  }, 60_000)
})
