import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { type Sandbox, SandboxPortError, sandboxBanner, sandboxPorts, startSandbox } from '../src/sandbox.js'
import { unzip } from '../src/standins/svarut/test-support.js'

type Json = Record<string, any>
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** the Altinn stand-in's URL in a running sandbox */
const altinn = (sandbox: Sandbox) => sandbox.standIns.find((s) => s.name === 'altinn-broker')!.url
/** the SvarUt stand-in's URL in a running sandbox */
const svarut = (sandbox: Sandbox) => sandbox.standIns.find((s) => s.name === 'svarut')!.url

/** The sandbox as `npm start` runs it, on free ports: the README's walk-through, and a restart. */
describe('the sandbox', () => {
  let dir: string
  let sandbox: Sandbox | undefined
  afterEach(async () => {
    await sandbox?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('sends from one organisation to the other, and keeps it over a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    const logger = pino({ level: 'silent' })
    sandbox = await startSandbox({ cwd: dir, logger, anyPorts: true })
    const [a] = sandbox.points.map((p) => p.url)
    expect(sandboxBanner(sandbox)).toContain(`${a}/api/capabilities/910077473`)
    expect(await (await fetch(`${altinn(sandbox)}/health`)).json()).toEqual({ status: 'UP' })

    const caps = (await (await fetch(`${a}/api/capabilities/910077473`)).json()) as Json
    expect(caps.capabilities.map((c: Json) => c.serviceIdentifier)).toContain('DPO')

    const sbd = (await (
      await fetch(`${a}/api/prototype/arkivmelding?receiverIdentifier=910077473`)
    ).json()) as Json
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const example = new URL('../sandbox/example/', import.meta.url)
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    form.append(
      'Arkivmelding',
      new Blob([readFileSync(new URL('arkivmelding.xml', example))], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    form.append(
      'Vedtak',
      new Blob([readFileSync(new URL('vedtak.pdf', example))], { type: 'application/pdf' }),
      'vedtak.pdf',
    )
    const sent = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(sent.status, await sent.clone().text()).toBe(200)

    // 910077473 gets it over the broker stand-in; 910075918 sees SENDT and MOTTATT
    const [, b] = sandbox.points.map((p) => p.url)
    const statuses = async (url: string) =>
      ((await (await fetch(`${url}/api/statuses/${messageId}?sort=id`)).json()) as Json).content.map(
        (s: Json) => s.status,
      )
    await until(async () => (await statuses(a!)).includes('MOTTATT'))
    expect(await statuses(a!)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT'])

    // a restart keeps everything: the message waits at B, A's conversation is there
    await sandbox.stop()
    sandbox = await startSandbox({ cwd: dir, logger, anyPorts: true })
    const [again, b2] = sandbox.points.map((p) => p.url)
    expect(b2).not.toBe(undefined)
    expect(b).not.toBe(undefined)
    const conv = (await (await fetch(`${again}/api/conversations/messageId/${messageId}`)).json()) as Json
    expect(conv).toMatchObject({
      messageTitle: 'Vedtak om tilskudd',
      receiverIdentifier: '910077473',
      serviceIdentifier: 'DPO',
    })
    const peek = await fetch(`${b2}/api/messages/in/peek`)
    expect(peek.status).toBe(200)
    const peeked = (await peek.json()) as Json
    expect(peeked.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(messageId)
    expect((await fetch(`${b2}/api/messages/in/pop/${messageId}`)).status).toBe(200)
    expect((await fetch(`${b2}/api/messages/in/${messageId}`, { method: 'DELETE' })).status).toBe(200)
    await until(async () => (await statuses(again!)).includes('LEVERT'))
    expect(await statuses(again!)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
  })

  it('enables exactly what it can deliver: DPV, DPI, DPF and DPE are on, DPH stays off', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const [a] = sandbox.points.map((p) => p.url)
    const info = (await (await fetch(`${a}/manage/info`)).json()) as Json
    expect(info.app.services).toEqual(['DPO', 'DPV', 'DPI', 'DPF', 'DPE'])
    expect(info.app.servicesWithoutTransport).toEqual([])
    // 910094092 takes only DPV in the sandbox catalogue
    const dpv = (await (
      await fetch(`${a}/api/prototype/arkivmelding?receiverIdentifier=910094092`)
    ).json()) as Json
    const accepted = await fetch(`${a}/api/messages/out`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dpv),
    })
    expect(accepted.status, await accepted.clone().text()).toBe(200)
    // DPH has no channel yet: the sandbox leaves it off, and says so where a person looks up a receiver
    expect(info.app.services).not.toContain('DPH')
    const page = await (await fetch(`${a}/capabilities?identifier=01819040180`)).text()
    expect(page).toMatch(
      /<tr data-service="DPI">[\s\S]*?<td class="from-here"><span class="badge UP">can send<\/span>/,
    )
  })

  it('delivers a digital letter to 01819040180 (SENDT, MOTTATT, LEVERT, LEST once opened) and a print letter to 15857540015 (LEVERT) by DPI', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const [a] = sandbox.points.map((p) => p.url) as [string]
    const dpi = sandbox.standIns.find((s) => s.name === 'dpi')!.url
    expect(sandboxBanner(sandbox)).toContain(`${dpi}/sandbox`)
    const pdf = readFileSync(new URL('../sandbox/example/vedtak.pdf', import.meta.url))
    const statuses = async (messageId: string) =>
      ((await (await fetch(`${a}/api/statuses/${messageId}?sort=id`)).json()) as Json).content.map(
        (s: Json) => s.status,
      )
    const send = async (type: 'digital' | 'print', person: string, body: Json) => {
      const sbd = (await (
        await fetch(`${a}/api/prototype/${type}?receiverIdentifier=${person}`)
      ).json()) as Json
      Object.assign(sbd[type], { hoveddokument: 'vedtak.pdf', ...body })
      const form = new FormData()
      form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
      form.append('Vedtak', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'vedtak.pdf')
      const res = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: form })
      expect(res.status, await res.clone().text()).toBe(200)
      return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier as string
    }
    // from 910075918 to the citizen's mailbox
    const digital = await send('digital', '01819040180', {
      tittel: 'Vedtak om barnehageplass',
      digitalPostInfo: { virkningsdato: null, aapningskvittering: true },
    })
    await until(async () => (await statuses(digital)).includes('LEVERT'))
    expect(await statuses(digital)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const inbox = (await (await fetch(`${dpi}/sandbox/api/messages?recipient=01819040180`)).json()) as Json[]
    const letter = inbox.find((m) => m.messageId === digital)!
    expect(letter).toMatchObject({ type: 'digital', status: 'LEVERT' })
    const doc = await fetch(letter.documents[0].url)
    expect(sha(Buffer.from(await doc.arrayBuffer()))).toBe(sha(pdf))
    const opened = await fetch(`${dpi}/sandbox/api/messages/${digital}/open`, { method: 'POST' })
    expect(opened.status, await opened.clone().text()).toBe(200)
    await until(async () => (await statuses(digital)).includes('LEST'))
    expect(await statuses(digital)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT', 'LEST'])
    // on paper to a person without a mailbox: the address comes from the register
    const print = await send('print', '15857540015', {})
    await until(async () => (await statuses(print)).includes('LEVERT'))
    expect(await statuses(print)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const tray = (await (await fetch(`${dpi}/sandbox/api/messages?recipient=15857540015`)).json()) as Json[]
    // the printer has it (mottakskvittering: LEVERT here); it is ready for posting a moment later
    const printed = tray.find((m) => m.messageId === print)!
    expect(printed.type).toBe('utskrift')
    expect(printed.receipts).toContain('mottakskvittering')
  })

  it('delivers an arkivmelding to a DPV receiver: LEVERT by itself, LEST once read in the Altinn inbox, files intact', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const [a] = sandbox.points.map((p) => p.url) as [string]
    expect(sandboxBanner(sandbox)).toContain(`${altinn(sandbox)}/sandbox/correspondence`)
    const sbd = (await (
      await fetch(`${a}/api/prototype/arkivmelding?receiverIdentifier=910094092`)
    ).json()) as Json
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const example = new URL('../sandbox/example/', import.meta.url)
    const pdf = readFileSync(new URL('vedtak.pdf', example))
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    form.append(
      'Arkivmelding',
      new Blob([readFileSync(new URL('arkivmelding.xml', example))], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    form.append('Vedtak', new Blob([pdf], { type: 'application/pdf' }), 'vedtak.pdf')
    const sent = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(sent.status, await sent.clone().text()).toBe(200)

    const statuses = async () =>
      ((await (await fetch(`${a}/api/statuses/${messageId}?sort=id`)).json()) as Json).content.map(
        (s: Json) => s.status,
      )
    await until(async () => (await statuses()).includes('LEVERT'))
    const inbox = (await (
      await fetch(`${altinn(sandbox)}/sandbox/api/correspondences?recipient=910094092`)
    ).json()) as Json[]
    const mine = inbox.find((c) => c.sendersReference === messageId)!
    // only the document the arkivmelding names, byte for byte; never arkivmelding.xml itself
    expect(mine.attachments.map((f: Json) => [f.fileName, f.sha256])).toEqual([
      ['vedtak.pdf', createHash('sha256').update(pdf).digest('hex')],
    ])
    expect(await statuses()).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    const read = await fetch(`${altinn(sandbox)}/sandbox/api/correspondences/${mine.correspondenceId}/read`, {
      method: 'POST',
    })
    expect(read.status).toBe(200)
    await until(async () => (await statuses()).includes('LEST'))
    expect(await statuses()).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])
  })

  it('delivers an arkivmelding to the municipality by DPF: SENDT and LEVERT, LEST once read in SvarUt; its answer is peekable with a generated arkivmelding.xml', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const [a] = sandbox.points.map((p) => p.url) as [string]
    expect(sandboxBanner(sandbox)).toContain(`${svarut(sandbox)}/sandbox`)
    const sbd = (await (
      await fetch(`${a}/api/prototype/arkivmelding?receiverIdentifier=910229028`)
    ).json()) as Json
    sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const example = new URL('../sandbox/example/', import.meta.url)
    const pdf = readFileSync(new URL('vedtak.pdf', example))
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
    form.append(
      'Arkivmelding',
      new Blob([readFileSync(new URL('arkivmelding.xml', example))], { type: 'application/xml' }),
      'arkivmelding.xml',
    )
    form.append('Vedtak', new Blob([pdf], { type: 'application/pdf' }), 'vedtak.pdf')
    const sent = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(sent.status, await sent.clone().text()).toBe(200)

    const statuses = async () =>
      ((await (await fetch(`${a}/api/statuses/${messageId}?sort=id`)).json()) as Json).content.map(
        (s: Json) => s.status,
      )
    await until(async () => (await statuses()).includes('LEVERT'))
    expect(await statuses()).toEqual(['OPPRETTET', 'SENDT', 'LEVERT'])
    // the municipality has no SvarInn of its own: the forsendelse waits in SvarUt, found by eksternRef
    const waiting = (await (
      await fetch(`${svarut(sandbox)}/sandbox/api/forsendelser?mottaker=910229028`)
    ).json()) as Json[]
    const mine = waiting.filter((f) => f.eksternRef === messageId)
    expect(mine).toHaveLength(1)
    // only the document the arkivmelding names, decrypted by SvarUt byte for byte
    expect(mine[0]!.dokumenter.map((d: Json) => [d.filnavn, d.sha256])).toEqual([
      ['vedtak.pdf', createHash('sha256').update(pdf).digest('hex')],
    ])
    const read = await fetch(`${svarut(sandbox)}/sandbox/api/forsendelser/${mine[0]!.id}/read`, {
      method: 'POST',
    })
    expect(read.status).toBe(200)
    await until(async () => (await statuses()).includes('LEST'))
    expect(await statuses()).toEqual(['OPPRETTET', 'SENDT', 'LEVERT', 'LEST'])

    // the municipality answers 910075918 through SvarUt: it arrives by SvarInn
    const svar = Buffer.from(`%PDF-1.4 svar fra kommunen ${'s'.repeat(30_000)}`)
    const answer = new FormData()
    const forsendelse = { avsender: '910229028', mottaker: '910075918', tittel: 'Svar på søknad om tilskudd' }
    answer.append('forsendelse', new Blob([JSON.stringify(forsendelse)], { type: 'application/json' }))
    answer.append('dokument', new Blob([new Uint8Array(svar)], { type: 'application/pdf' }), 'svar.pdf')
    answer.append('dokument', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'vedlegg.pdf')
    const posted = await fetch(`${svarut(sandbox)}/sandbox/api/forsendelser`, {
      method: 'POST',
      body: answer,
    })
    expect(posted.status, await posted.clone().text()).toBe(200)
    const { id } = (await posted.json()) as Json
    let peek: Response | undefined
    await until(async () => {
      peek = await fetch(`${a}/api/messages/in/peek?messageId=${id}`)
      return peek.status === 200
    })
    const header = ((await peek!.json()) as Json).standardBusinessDocumentHeader
    expect(header.sender[0].identifier.value).toBe('0192:910229028')
    expect(header.receiver[0].identifier.value).toBe('0192:910075918')
    expect(header.documentIdentification).toMatchObject({ type: 'arkivmelding', instanceIdentifier: id })
    const popped = await fetch(`${a}/api/messages/in/pop/${id}`)
    expect(popped.status).toBe(200)
    const entries = await unzip(Buffer.from(await popped.arrayBuffer()))
    expect(entries.get('svar.pdf')?.equals(svar)).toBe(true)
    expect(entries.get('vedlegg.pdf')?.equals(pdf)).toBe(true)
    const xml = entries.get('arkivmelding.xml')?.toString('utf8')
    expect(xml).toContain('<offentligTittel>Svar på søknad om tilskudd</offentligTittel>')
    expect(xml).toContain('<referanseDokumentfil>svar.pdf</referanseDokumentfil>')
    expect(xml).toContain('<referanseDokumentfil>vedlegg.pdf</referanseDokumentfil>')
    expect((await fetch(`${a}/api/messages/in/${id}`, { method: 'DELETE' })).status).toBe(200)
  })

  it('carries DPE: an innsynskrav from eInnsyn taken in (MOTTATT, LEVERT at eInnsyn), a publisering answered with its einnsyn_kvittering, an innsynskrav between the agencies arriving once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const [a, b] = sandbox.points.map((p) => p.url) as [string, string]
    const bus = sandbox.standIns.find((s) => s.name === 'service-bus')!.url
    const idOf = (sbd: Json): string =>
      sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const peek = async (url: string, messageId: string) => {
      let res: Response | undefined
      await until(async () => {
        res = await fetch(`${url}/api/messages/in/peek?messageId=${messageId}`)
        return res.status === 200
      })
      return (await res!.json()) as Json
    }
    const statuses = async (url: string, messageId: string) =>
      ((await (await fetch(`${url}/api/statuses/${messageId}?sort=id`)).json()) as Json).content.map(
        (s: Json) => s.status,
      )

    // eInnsyn asks 910075918 for access to a journal post
    const asked = await fetch(`${bus}/sandbox/api/innsynskrav`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        to: '910075918',
        email: 'ola@example.com',
        documents: [{ journalpostId: '123' }],
      }),
    })
    expect(asked.status, await asked.clone().text()).toBe(201)
    const krav = ((await asked.json()) as Json).messageId as string
    expect((await peek(a, krav)).standardBusinessDocumentHeader.sender[0].identifier.value).toBe(
      '0192:910076787',
    )
    const order = (
      await unzip(Buffer.from(await (await fetch(`${a}/api/messages/in/pop/${krav}`)).arrayBuffer()))
    )
      .get('order.xml')
      ?.toString('utf8')
    expect(order).toContain('123')
    expect((await fetch(`${a}/api/messages/in/${krav}`, { method: 'DELETE' })).status).toBe(200)
    const atEinnsyn = async () =>
      (
        ((await (await fetch(`${bus}/sandbox/api/innsynskrav`)).json()) as Json[]).find(
          (k) => k.messageId === krav,
        )?.statuses ?? []
      ).map((s: Json) => s.status)
    await until(async () => (await atEinnsyn()).includes('LEVERT'))
    expect(await atEinnsyn()).toEqual(['MOTTATT', 'LEVERT'])

    // 910075918 publishes a journal post: eInnsyn answers with MOTTATT, LEVERT and an einnsyn_kvittering
    const proto = (await (
      await fetch(`${a}/api/prototype/publisering?receiverIdentifier=910076787`)
    ).json()) as Json
    proto.publisering = { hoveddokument: 'journalpost.json', orgnr: '910075918' }
    const journalpost = {
      '@id': 'http://example.com/journalpost/123',
      offentligTittel: 'Svar på innsynskrav',
    }
    const form = new FormData()
    form.append('sbd', new Blob([JSON.stringify(proto)], { type: 'application/json' }))
    form.append(
      'Journalpost',
      new Blob([JSON.stringify(journalpost)], { type: 'application/json' }),
      'journalpost.json',
    )
    const published = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: form })
    expect(published.status, await published.clone().text()).toBe(200)
    const pub = idOf(proto)
    await until(async () => (await statuses(a, pub)).includes('LEVERT'))
    expect(await statuses(a, pub)).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT', 'LEVERT'])
    const answered = ((await (await fetch(`${bus}/sandbox/api/publiseringer`)).json()) as Json[]).find(
      (p) => p.messageId === pub,
    )!
    const kvittering = await peek(a, answered.kvittering.messageId)
    expect(kvittering.standardBusinessDocumentHeader.documentIdentification.type).toBe('einnsyn_kvittering')
    expect(JSON.parse(kvittering.einnsyn_kvittering.status)).toMatchObject({
      publisert: true,
      dokumentId: journalpost['@id'],
    })

    // an innsynskrav from 910075918 to 910077473 over DPE arrives there once
    const between = (await (
      await fetch(`${a}/api/prototype/innsynskrav?receiverIdentifier=910077473`)
    ).json()) as Json
    between.innsynskrav = { hoveddokument: 'order.xml', orgnr: '910077473', epost: 'kari@example.com' }
    const sent = new FormData()
    sent.append('sbd', new Blob([JSON.stringify(between)], { type: 'application/json' }))
    sent.append('Bestilling', new Blob(['<bestilling/>'], { type: 'application/xml' }), 'order.xml')
    const posted = await fetch(`${a}/api/messages/out/multipart`, { method: 'POST', body: sent })
    expect(posted.status, await posted.clone().text()).toBe(200)
    const id = idOf(between)
    expect(idOf(await peek(b, id))).toBe(id)
    const list = (await (await fetch(`${b}/api/messages/in?messageId=${id}`)).json()) as Json
    expect(list.content).toHaveLength(1)
    expect(await statuses(a, id)).toEqual(['OPPRETTET', 'SENDT'])
    const queues = (await (await fetch(`${bus}/sandbox/api/queues`)).json()) as Json[]
    expect(queues.every((q) => q.deadLettered === 0)).toBe(true)
  })

  it('prints a send line that works as printed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    const banner = sandboxBanner(sandbox)
    const line = banner.split('\n').find((l) => l.includes('/api/messages/out/multipart'))
    expect(line).toBeDefined()
    // run as a shell runs it; asynchronously, since the sandbox answering it lives in this process
    const { stdout: out } = await promisify(execFile)('sh', ['-c', line!.trim()], { cwd: process.cwd() })
    const sbd = JSON.parse(out) as Json
    const messageId = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    const [, b] = sandbox.points.map((p) => p.url)
    await until(async () => (await fetch(`${b}/api/messages/in/peek`)).status === 200)
    const list = (await (await fetch(`${b}/api/messages/in?messageId=${messageId}`)).json()) as Json
    expect(list.content).toHaveLength(1)
  })
})

describe('the sandbox ports', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('moves every port with --port-base, and names a taken port in one line with the way out', async () => {
    const base = await freeRange(7)
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    dirs.push(dir)
    const sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), portBase: base })
    try {
      expect(sandbox.points.map((p) => new URL(p.url).port)).toEqual([String(base), String(base + 1)])
      expect(new URL(altinn(sandbox)).port).toBe(String(sandboxPorts(base).broker))
      expect(new URL(svarut(sandbox)).port).toBe(String(base + 4))
      expect(new URL(sandbox.registryUrl).port).toBe(String(base + 6))
      // a second sandbox on the same ports: the first it needs is taken
      const again = startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), portBase: base })
      await expect(again).rejects.toBeInstanceOf(SandboxPortError)
      await expect(again).rejects.toThrow(
        `port ${base + 6} (ServiceRegistry stand-in) is taken, by another sandbox or program. Stop that, or move all the sandbox's ports: npm start -- --port-base ${base + 1000}`,
      )
    } finally {
      await sandbox.stop()
    }
  })

  it('says so on the command line, without a stack trace', async () => {
    const base = await freeRange(7)
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-'))
    dirs.push(dir)
    // another program holds the first integration point's port
    const blocker = createServer().listen(base, '127.0.0.1')
    await once(blocker, 'listening')
    try {
      const cli = new URL('../src/cli.ts', import.meta.url).pathname
      const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
      // from its own folder, where the stand-ins that did start keep their data
      const args = ['--import', tsx, cli, 'sandbox', '--port-base', String(base)]
      const run = promisify(execFile)(process.execPath, args, { cwd: dir })
      const failed = (await run.then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      )) as { code: number; stderr: string }
      expect(failed.code).toBe(1)
      expect(failed.stderr.trim().split('\n')).toEqual([
        `integrasjonspunkt cannot start: port ${base} (integration point 910075918) is taken, by another sandbox or program. Stop that, or move all the sandbox's ports: npm start -- --port-base ${base + 1000} (integrasjonspunkt sandbox --port-base ${base + 1000})`,
      ])
    } finally {
      blocker.close()
    }
  }, 30_000)
})

/** a base port whose next `n` ports are free now */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const servers = []
    try {
      for (let i = 0; i < n; i++) {
        const s = createServer().listen(base + i, '127.0.0.1')
        servers.push(s)
        await once(s, 'listening')
      }
      return base
    } catch {
      // taken: try another range
    } finally {
      for (const s of servers) s.close()
    }
  }
}

async function until(probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}
