import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Sandbox, startSandbox } from '../src/sandbox.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { startTestIp, TEST_USER } from './support/ip.js'

type Json = Record<string, any>

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(process.cwd(), 'test-results', 'web')
const A = '910075918'
const B = '910077473'

const suite = existsSync(CHROMIUM) ? describe : describe.skip
const name = existsSync(CHROMIUM)
  ? 'the web pages in Chromium, against the sandbox'
  : `the web pages in Chromium (SKIPPED: ${CHROMIUM} is missing; install Debian's chromium package)`

/**
 * The operator's pages in a real headless Chromium against the running sandbox, with messages made
 * through the API: both ways over DPO, one refused (FEIL), one expired, one locked by a peek at B, one
 * whose file could not be read (waiting for its next try). Screenshots go to test-results/web/.
 */
suite(name, () => {
  let dir: string
  let sandbox: Sandbox
  let browser: Browser
  let urlA: string
  let urlB: string
  const ids: Record<'ab' | 'ba' | 'refused' | 'expired' | 'stuck', string> = {} as never
  let stuckFile: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-browser-'))
    mkdirSync(SHOTS, { recursive: true })
    sandbox = await startSandbox({ cwd: dir, logger: pino({ level: 'silent' }), anyPorts: true })
    ;[urlA, urlB] = sandbox.points.map((p) => p.url) as [string, string]
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    ids.ab = await sendMultipart(urlA, B, {
      title: 'Vedtak om tilskudd til kulturhus',
      saksmappeId: '2026/17',
    })
    ids.ba = await sendMultipart(urlB, A, { title: 'Søknad om skjenkebevilling', saksmappeId: '2026/88' })
    // on behalf of an organisation with no DPO system user here: the send is refused (FEIL)
    ids.refused = await sendMultipart(urlA, B, {
      title: 'Feilsendt',
      saksmappeId: '2026/3',
      onBehalfOf: '910075926',
    })
    ids.expired = await expiredSend(urlA)
    const stuck = await sendWithUnreadableFile(urlA, dir)
    ids.stuck = stuck.messageId
    stuckFile = stuck.file
    await until(async () => (await statuses(urlA, ids.ab)).includes('MOTTATT'))
    await until(async () => (await statuses(urlB, ids.ba)).includes('MOTTATT'))
    await until(async () => (await statuses(urlA, ids.refused)).includes('FEIL'))
    // the fagsystem at B peeks the message from A: locked
    await until(
      async () =>
        (await fetch(`${urlB}/api/messages/in?messageId=${ids.ab}`).then((r) => r.json())).content?.length ===
        1,
    )
    const peeked = (await (await fetch(`${urlB}/api/messages/in/peek`)).json()) as Json
    expect(peeked.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(ids.ab)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await sandbox?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function open(url: string, shot?: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport })
    const res = await page.goto(url)
    expect(res?.status(), url).toBe(200)
    if (shot) await screenshot(page, shot)
    return page
  }

  it('shows the overview: charts, counts, failures, queues and health', async () => {
    const page = await open(`${urlA}/`, 'overview')
    expect(await page.title()).toBe(`Overview · Integrasjonspunkt ${A}`)
    // A sent two messages over DPO (the first and the one stuck is not sent yet)
    const sentBars = await page
      .locator('#sent-hourly rect.bar[data-service="DPO"]')
      .evaluateAll((rects) => rects.reduce((n, r) => n + Number(r.getAttribute('data-count')), 0))
    expect(sentBars).toBe(1)
    const receivedBars = await page
      .locator('#received-daily rect.bar[data-service="DPO"]')
      .evaluateAll((rects) => rects.reduce((n, r) => n + Number(r.getAttribute('data-count')), 0))
    expect(receivedBars).toBe(1)
    expect(await page.locator('#sent-hourly svg title').first().textContent()).toBe(
      'Sent per hour, last 24 hours',
    )
    await expect
      .poll(() => page.locator('#statuses tr', { hasText: 'FEIL' }).locator('td.num').textContent())
      .toBe('1')
    expect(
      await page.locator('#statuses tr', { hasText: 'LEVETID_UTLOPT' }).locator('td.num').textContent(),
    ).toBe('1')
    const problems = page.locator('#problems tbody tr')
    expect(await problems.count()).toBe(2)
    await page.locator('#problems a', { hasText: 'Feilsendt' }).click()
    await page.waitForURL(`**/messages/${ids.refused}`)
    expect(
      await page
        .locator('#timeline-OUTGOING li')
        .evaluateAll((li) => li.map((l) => l.getAttribute('data-status'))),
    ).toEqual(['OPPRETTET', 'FEIL'])
    expect(await page.locator('#timeline-OUTGOING li[data-status="FEIL"] .desc').textContent()).toContain(
      'no DPO system user',
    )
    await page.goto(`${urlA}/`)
    expect(await page.locator('#health tr', { hasText: 'db' }).locator('.badge').first().textContent()).toBe(
      'UP',
    )
    expect(await page.locator('#health tr', { hasText: 'dpo' }).locator('.badge').first().textContent()).toBe(
      'UP',
    )
    expect(await page.locator('#jobs tr', { hasText: 'send' }).count()).toBe(1)
    await page.close()
  })

  it('finds a message by each kind of identifier and shows its statuses in order', async () => {
    const conv = (await (await fetch(`${urlA}/api/conversations/messageId/${ids.ab}`)).json()) as Json
    const page = await open(`${urlA}/conversations`, 'conversations')
    expect(await page.locator('#conversations tbody tr').count()).toBe(5)
    for (const term of [ids.ab, conv.conversationId, conv.messageReference, `0192:${B}`, B]) {
      await page.goto(`${urlA}/conversations`)
      await page.fill('#f-search', term)
      await page.click('button[type="submit"]')
      await page.waitForURL(/search=/)
      await page.locator(`#conversations a[href="/messages/${ids.ab}"]`).click()
      await page.waitForURL(`**/messages/${ids.ab}`)
      expect(await page.locator('h1').textContent(), term).toBe('Vedtak om tilskudd til kulturhus')
    }
    expect(conv.messageReference).toBe('2026/17-7')
    const order = await page
      .locator('#timeline-OUTGOING li')
      .evaluateAll((li) => li.map((l) => l.getAttribute('data-status')))
    expect(order).toEqual(['OPPRETTET', 'SENDT', 'MOTTATT'])
    // sent: the payload is gone, its file list is not
    expect(await page.locator('#file-list').textContent()).toContain('vedtak.pdf')
    await screenshot(page, 'message-outgoing')

    // a title word, filters in the URL, and the colours of the latest status
    await page.goto(`${urlA}/conversations?title=kultur&direction=OUTGOING`)
    expect(await page.locator('#conversations tbody tr').count()).toBe(1)
    await page.goto(`${urlA}/conversations?status=FEIL`)
    expect(await page.locator('#conversations tbody tr.failed').count()).toBe(1)
    await page.close()
  })

  it('unlocks a peeked message after confirmation, and the API hands it out again', async () => {
    const page = await open(`${urlB}/messages/${ids.ab}`, 'message-incoming-locked')
    expect(await page.locator('#lock-state').textContent()).toContain('Locked')
    await page.click('#unlock')
    await page.waitForURL(`**/messages/${ids.ab}/unlock`)
    await screenshot(page, 'confirm-unlock')
    await page.click('#confirm')
    await page.waitForURL(`**/messages/${ids.ab}?done=unlocked`)
    expect(await page.locator('.flash').textContent()).toContain('The message is unlocked')
    expect(await page.locator('#lock-state').textContent()).toContain('Not locked')
    const again = (await (await fetch(`${urlB}/api/messages/in/peek`)).json()) as Json
    expect(again.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(ids.ab)
    await page.close()
  })

  it('retries a waiting send now, once its file is back', async () => {
    const db = sandbox.points[0]!.db.kysely
    const sendJob = () =>
      db
        .selectFrom('jobs')
        .selectAll()
        .where('message_id', '=', ids.stuck)
        .where('kind', '=', 'send:DPO')
        .executeTakeFirstOrThrow()
    // several failed tries (the sandbox backs off 1, 2, 4, 8 s): the next one is seconds away
    await until(async () => (await sendJob()).run_at > Date.now() + 6000, 30_000)
    const waiting = await sendJob()
    const page = await open(`${urlA}/messages/${ids.stuck}`, 'message-retry')
    expect(await page.locator('#jobs tr[data-kind="send:DPO"] td.mono').textContent()).toContain('ENOENT')
    renameSync(`${stuckFile}.away`, stuckFile)
    await page.click('#retry')
    await page.click('#confirm')
    await page.waitForURL(`**/messages/${ids.stuck}?done=retry-now`)
    expect(await page.locator('.flash').textContent()).toContain('The send job runs now.')
    await until(async () => (await statuses(urlA, ids.stuck)).includes('SENDT'))
    // sent before its next try was due: the retry did it
    expect(Date.now()).toBeLessThan(waiting.run_at)
    await page.close()
  }, 45_000)

  it('looks up the capabilities of 910077473', async () => {
    const page = await open(`${urlA}/capabilities`)
    await page.fill('#c-identifier', B)
    await page.click('button[type="submit"]')
    await page.waitForURL(/identifier=910077473/)
    const services = await page
      .locator('#capabilities tbody tr')
      .evaluateAll((tr) => tr.map((t) => t.getAttribute('data-service')))
    expect(services).toContain('DPO')
    expect(await page.locator('#capabilities').textContent()).toContain(
      'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
    )
    await screenshot(page, 'capabilities')
    await page.goto(`${urlA}/capabilities?identifier=999999999`)
    expect(await page.locator('#lookup-error').textContent()).toContain('999999999')
    await page.goto(`${urlA}/configuration`)
    expect(await page.locator('#services [data-service="DPO"]').getAttribute('data-enabled')).toBe('true')
    await page.close()
  })

  it('fits a phone: no sideways scrolling on the overview and a message page', async () => {
    for (const [path, shot] of [
      ['/', 'phone-overview'],
      [`/messages/${ids.ab}`, 'phone-message'],
    ] as const) {
      const page = await open(`${urlA}${path}`, undefined, { width: 390, height: 844 })
      const { scroll, width } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
      }))
      expect(scroll, path).toBeLessThanOrEqual(width)
      await screenshot(page, shot)
      await page.close()
    }
  })

  it('asks for the password when Basic auth is on, and hides secrets on the configuration page', async () => {
    const ip = await startTestIp('sqlite', { overrides: { 'difi.security.enable': 'true' } })
    try {
      const anonymous = await browser.newPage()
      // the browser gets the 401 and, with no credentials to offer, stops the navigation
      const answer = anonymous.waitForResponse(`${ip.url}/`)
      await anonymous.goto(`${ip.url}/`).catch(() => undefined)
      expect((await answer).status()).toBe(401)
      expect((await answer).headers()['www-authenticate']).toBe('Basic realm="Realm"')
      await anonymous.close()
      const context = await browser.newContext({
        httpCredentials: { username: TEST_USER.name, password: TEST_USER.password },
      })
      const page = await context.newPage()
      expect((await page.goto(`${ip.url}/configuration`))?.status()).toBe(200)
      const row = page.locator('#properties tr', { hasText: 'difi.security.user.password' })
      expect(await row.locator('td').nth(1).getAttribute('data-hidden')).toBe('true')
      expect(await page.content()).not.toContain(TEST_USER.password)
      await screenshot(page, 'configuration')
      await context.close()
    } finally {
      await ip.close()
    }
  })
})

async function screenshot(page: Page, shot: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true })
}

async function statuses(url: string, messageId: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/api/statuses/${messageId}?sort=id`)).json()) as Json
  return (body.content ?? []).map((s: Json) => s.status)
}

async function prototype(url: string, receiver: string): Promise<Json> {
  return (await (
    await fetch(`${url}/api/prototype/arkivmelding?receiverIdentifier=${receiver}`)
  ).json()) as Json
}

async function sendMultipart(
  url: string,
  receiver: string,
  o: { title: string; saksmappeId: string; onBehalfOf?: string },
): Promise<string> {
  const sbd = await prototype(url, receiver)
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  if (o.onBehalfOf)
    sbd.standardBusinessDocumentHeader.sender = [
      { identifier: { authority: 'iso6523-actorid-upis', value: `0192:${o.onBehalfOf}` } },
    ]
  const xml = arkivmeldingXml({
    files: ['vedtak.pdf'],
    title: o.title,
    saksmappeId: o.saksmappeId,
    journalpostnummer: 7,
  })
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedtak', new Blob([Buffer.from('%PDF-1.4 vedtak')], { type: 'application/pdf' }), 'vedtak.pdf')
  const res = await fetch(`${url}/api/messages/out/multipart`, { method: 'POST', body: form })
  expect(res.status, await res.clone().text()).toBe(200)
  return sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
}

/** A message whose lifetime runs out before it is sent: the API refuses it and registers LEVETID_UTLOPT. */
async function expiredSend(url: string): Promise<string> {
  const sbd = await prototype(url, B)
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  sbd.standardBusinessDocumentHeader.businessScope.scope[0].scopeInformation = [
    { expectedResponseDateTime: new Date(Date.now() + 1500).toISOString() },
  ]
  const id = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  const created = await fetch(`${url}/api/messages/out`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sbd),
  })
  expect(created.status, await created.clone().text()).toBe(200)
  await upload(
    url,
    id,
    'arkivmelding.xml',
    'application/xml',
    arkivmeldingXml({ files: ['vedtak.pdf'], title: 'For sent' }),
  )
  await upload(url, id, 'vedtak.pdf', 'application/pdf', '%PDF-1.4')
  // the lifetime runs out before the fagsystem sends it
  await new Promise((r) => setTimeout(r, 1600))
  const sent = await fetch(`${url}/api/messages/out/${id}`, { method: 'POST' })
  expect(sent.status).toBe(400)
  return id
}

async function upload(url: string, id: string, filename: string, type: string, body: string): Promise<void> {
  const name = filename === 'arkivmelding.xml' ? 'Arkivmelding' : 'Vedtak'
  const res = await fetch(`${url}/api/messages/out/${id}`, {
    method: 'PUT',
    headers: {
      'content-type': type,
      'content-disposition': `attachment; name=${name}; filename=${filename}`,
    },
    body,
  })
  expect(res.status, await res.clone().text()).toBe(200)
}

/**
 * A message created and uploaded through the API, whose PDF is then moved away on disk (a storage
 * hiccup) before it is sent: every try fails until it is back. Returns the stored file's path.
 */
async function sendWithUnreadableFile(
  url: string,
  dir: string,
): Promise<{ messageId: string; file: string }> {
  const sbd = await prototype(url, B)
  sbd.arkivmelding = { hoveddokument: 'vedtak.pdf' }
  const id = sbd.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  const created = await fetch(`${url}/api/messages/out`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sbd),
  })
  expect(created.status).toBe(200)
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title: 'Venter på fil' })
  await upload(url, id, 'arkivmelding.xml', 'application/xml', xml)
  await upload(url, id, 'vedtak.pdf', 'application/pdf', '%PDF-1.4 x')
  const folder = join(dir, 'sandbox-data', A, 'messages', 'out', id)
  const pdf = readdirSync(folder)
    .map((f) => join(folder, f))
    .find((f) => statSync(f).size === '%PDF-1.4 x'.length)!
  renameSync(pdf, `${pdf}.away`)
  expect((await fetch(`${url}/api/messages/out/${id}`, { method: 'POST' })).status).toBe(200)
  return { messageId: id, file: pdf }
}

async function until(probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}
