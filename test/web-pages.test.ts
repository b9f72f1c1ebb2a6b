import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fail, jobsForMessage } from '../src/jobs/outbox.js'
import { intakeIncoming } from '../src/messages/in/intake.js'
import { sendGivenUp } from '../src/messages/out/dispatch.js'
import { isSendJob } from '../src/messages/out/send.js'
import { arkivmeldingXml } from './support/arkivmelding.js'
import { STORES, warnIfPostgresSkipped } from './support/db.js'
import {
  arkivmeldingSbd,
  incomingArkivmeldingSbd,
  PROCESS,
  startTestIp,
  TEST_USER,
  type TestIp,
} from './support/ip.js'

warnIfPostgresSkipped()

type Json = Record<string, any>
const PEER = '910075918'
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' }

/** The pages over HTTP on both stores, with data made through the API and the intake (no browser). */
describe.each(STORES)('the web pages on %s', (kind) => {
  let ip: TestIp
  let out: { messageId: string; conversationId: string; reference: string }
  let inId: string

  beforeAll(async () => {
    ip = await startTestIp(kind)
    out = await sendOutgoing(ip, 'Vedtak om tilskudd til kulturhus', '2026/77')
    inId = await deliverIncoming(ip)
  })
  afterAll(async () => ip?.close())

  const page = async (path: string, init?: RequestInit) => {
    const res = await ip.fetch(path, init)
    return { status: res.status, text: await res.text(), headers: res.headers }
  }

  it('serves the overview at / with charts, counts, queues and health', async () => {
    const { status, text, headers } = await page('/')
    expect(status).toBe(200)
    expect(headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(text).toContain('<title>Overview · Integrasjonspunkt 910077473</title>')
    // the incoming message counts as received this hour and today, for DPO
    const received = section(text, 'received-hourly')
    expect(received).toMatch(/<rect class="bar" data-service="DPO" data-count="1"/)
    expect(section(text, 'sent-hourly')).toContain('None in this period.')
    expect(section(text, 'statuses')).toMatch(/OPPRETTET<\/span><\/td><td class="num">2</)
    expect(section(text, 'jobs')).toMatch(/<td>send:DPO<\/td><td class="num">1<\/td><td class="num">1<\/td>/)
    expect(section(text, 'incoming')).toMatch(/<b>1<\/b> waiting/)
    expect(section(text, 'health')).toMatch(/<td>db<\/td><td><span class="badge UP">UP/)
    // in words and human units, not raw details
    expect(section(text, 'health')).toMatch(/answers a query/)
    expect(section(text, 'health')).toMatch(/[\d.]+ [KMGT]iB free of [\d.]+ [KMGT]iB/)
    expect(section(text, 'health')).not.toMatch(/httpStatus=|free=\d/)
  })

  it('names the instances on the database and the singleton tasks each runs now', async () => {
    const now = ip.clock.now().getTime()
    const row = (id: string, seen: number, services: string[]) => ({
      id,
      host: 'ip-host-1',
      pid: id === 'a' ? 101 : 102,
      url: `http://10.0.0.${id === 'a' ? 1 : 2}:9093`,
      payload_store: 'database',
      services: JSON.stringify(services),
      version: '0.1.0',
      started_at: now - 60_000,
      seen_at: seen,
    })
    await ip.db.kysely
      .insertInto('instances')
      .values([row('a', now, ['DPO']), row('b', now, []), row('gone', now - 3_600_000, ['DPO'])])
      .execute()
    await ip.db.kysely
      .insertInto('leases')
      .values([
        { name: 'poll:DPO:incoming:910077473', holder: 'a', lease_until: now + 60_000 },
        { name: 'expiry', holder: 'a', lease_until: now + 60_000 },
        { name: 'retention', holder: 'b', lease_until: now - 1 },
      ])
      .execute()
    try {
      const text = section((await page('/')).text, 'instances')
      expect(text).toContain('ip-host-1 · pid 101')
      expect(text).toContain('ip-host-1 · pid 102')
      expect(text).toContain('expiry, poll:DPO:incoming:910077473')
      // a lease run out is no one's; an instance silent for an hour is not listed
      const rowOf = (pid: number) => text.split('<tr>').find((r) => r.includes(`pid ${pid}<`))!
      expect(rowOf(102)).toContain('<span class="muted">none</span>')
      expect(text.match(/<tr><td class="mono">/g)).toHaveLength(2)
    } finally {
      await ip.db.kysely.deleteFrom('leases').execute()
      await ip.db.kysely.deleteFrom('instances').execute()
    }
  })

  it('lists, searches, filters, sorts and pages conversations', async () => {
    const all = await page('/conversations')
    expect(all.status).toBe(200)
    expect(all.text).toContain(`href="/messages/${out.messageId}"`)
    expect(all.text).toContain(`href="/messages/${inId}"`)
    const finds = async (query: string) => (await page(`/conversations?${query}`)).text
    for (const term of [
      out.messageId,
      out.messageId.toUpperCase(),
      out.conversationId,
      out.reference,
      PEER,
      `0192:${PEER}`,
    ]) {
      const text = await finds(`search=${encodeURIComponent(term)}`)
      expect(text, term).toContain(`href="/messages/${out.messageId}"`)
    }
    // 910075918 is the receiver of the outgoing message and the sender of the incoming one
    expect(await finds(`search=${PEER}`)).toContain(`href="/messages/${inId}"`)
    expect(await finds('search=nothing-like-this')).toContain('No conversation matches.')
    expect(await finds('title=kultur')).toContain(`/messages/${out.messageId}`)
    expect(await finds('title=VEDTAK+tilsk')).toContain(`/messages/${out.messageId}`)
    expect(await finds('title=kulturhuset')).toContain('No conversation matches.')
    expect(await finds('direction=INCOMING')).not.toContain(`/messages/${out.messageId}"`)
    expect(await finds('status=INNKOMMENDE_MOTTATT')).toContain(`/messages/${inId}`)
    expect(await finds('status=OPPRETTET')).toContain(`/messages/${out.messageId}`)
    expect(await finds('status=FEIL')).toContain('No conversation matches.')
    expect(await finds('service=DPV')).toContain('No conversation matches.')
    expect(await finds('from=2026-03-10&to=2026-03-10')).toContain(`/messages/${out.messageId}`)
    expect(await finds('to=2026-03-09')).toContain('No conversation matches.')

    const first = await finds('size=1&sort=created,asc')
    expect(first).toContain(`/messages/${out.messageId}`)
    expect(first).toMatch(/rel="next" href="\/conversations\?sort=created%2Casc&amp;size=1&amp;page=2"/)
    const second = await finds('size=1&sort=created,asc&page=2')
    expect(second).toContain(`/messages/${inId}`)
    expect(second).not.toContain('rel="next"')
    expect(second).toContain('rel="prev"')
  })

  it.each([
    ['status=NOPE', 'status must be one of'],
    ['direction=SIDEWAYS', 'direction must be one of'],
    ['page=0', 'page must be a whole number'],
    ['page=201', 'The list goes 10000 rows deep'],
    ['size=100000', 'size must be a whole number from 1 to 200'],
    ['sort=title', 'sort must be one of'],
    ['from=2026-13-01', 'from must be a day'],
    ['from=2026-03-10&to=2026-03-01', 'is after to'],
    ['title=%22%2A', 'title must contain at least one letter'],
  ])('answers %s with a 400 page', async (query, message) => {
    const res = await page(`/conversations?${query}`)
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.text).toContain(message)
  })

  it('shows an outgoing message: header, files, timeline and its send job', async () => {
    const { status, text } = await page(`/messages/${out.messageId}`)
    expect(status).toBe(200)
    expect(text).toContain('<h1>Vedtak om tilskudd til kulturhus</h1>')
    expect(text).toContain(out.conversationId)
    expect(text).toContain(PROCESS.administrasjon)
    expect(text).toContain('2026/77-7')
    expect(section(text, 'files')).toMatch(/vedtak\.pdf.*application\/pdf.*5\.0 KiB/s)
    expect(text).toMatch(/data-status="OPPRETTET"/)
    expect(text).toMatch(/<tr data-kind="send:DPO" data-state="PENDING">/)
    // due now, nobody runs it in this test: nothing to retry
    expect(text).toContain('The send is due now and waits for a free worker.')
  })

  it('answers an unknown message and an unknown action with a 404 page', async () => {
    const res = await page('/messages/no-such-message')
    expect(res.status).toBe(404)
    expect(res.text).toContain('No message with messageId no-such-message is known here.')
    expect((await page(`/messages/${out.messageId}/explode`)).status).toBe(404)
  })

  it('unlocks a peeked incoming message after a confirmation, refusing cross-site posts', async () => {
    expect((await ip.fetch('/api/messages/in/peek')).status).toBe(200)
    const locked = await page(`/messages/${inId}`)
    expect(section(locked, 'incoming')).toContain('Locked</span> by a peek until')
    expect(locked.text).toContain(`href="/messages/${inId}/unlock"`)
    const confirm = await page(`/messages/${inId}/unlock`)
    expect(confirm.text).toContain(`<form method="post" action="/messages/${inId}/unlock"`)

    const post = (headers: Record<string, string>) =>
      ip.fetch(`/messages/${inId}/unlock`, { method: 'POST', headers, redirect: 'manual' })
    expect((await post({})).status).toBe(403)
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403)
    expect((await ip.fetch('/api/messages/in/peek')).status).toBe(204)

    const done = await post({ origin: ip.url, 'content-type': 'application/x-www-form-urlencoded' })
    expect(done.status).toBe(303)
    expect(done.headers.get('location')).toBe(`/messages/${inId}?done=unlocked`)
    const after = await page(done.headers.get('location')!)
    expect(after.text).toContain('The message is unlocked')
    expect(section(after, 'incoming')).toContain('Not locked')
    const again = await ip.json<Json>('/api/messages/in/peek')
    expect(again.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier).toBe(inId)
    // a second unlock of a message no longer locked says so
    await ip.fetch(`/api/messages/in/unlock/${inId}`, { method: 'POST' })
    const twice = await post(SAME_ORIGIN)
    expect(twice.headers.get('location')).toBe(`/messages/${inId}?done=not-locked`)
  })

  it('runs a send waiting for its backoff now', async () => {
    const m = await sendOutgoing(ip, 'Backoff', 'sak-b')
    const job = await failOnce(ip, m.messageId, 3_600_000)
    const before = await page(`/messages/${m.messageId}`)
    expect(before.text).toContain('broker unreachable')
    expect(before.text).toContain('id="retry"')
    const location = await retryFrom(ip, m.messageId)
    expect(location).toBe(`/messages/${m.messageId}?done=retry-now`)
    const row = await jobRow(ip, job)
    expect(row).toMatchObject({ state: 'PENDING', attempts: 1, run_at: ip.clock.now().getTime() })
    expect((await page(location!)).text).toContain('The send job runs now.')
  })

  it('starts a given-up send again only while its message and files are kept', async () => {
    const m = await sendOutgoing(ip, 'Given up', 'sak-g')
    // the instance stopped between giving the job up and removing the message (FEIL not registered yet)
    const job = await failOnce(ip, m.messageId, null)
    expect((await page(`/messages/${m.messageId}`)).text).toContain('its message and files are still here')
    const res = await retryFrom(ip, m.messageId)
    expect(res).toBe(`/messages/${m.messageId}?done=retry-revived`)
    expect(await jobRow(ip, job)).toMatchObject({ state: 'PENDING', attempts: 0 })

    // the usual give-up: FEIL registered, message and files removed in one go; nothing to retry
    await failOnce(ip, m.messageId, null)
    const dispatch = {
      db: ip.db,
      clock: ip.clock,
      logger: ip.deps.logger,
      payloads: ip.payloads,
      channels: {},
    }
    await sendGivenUp(dispatch, await jobRow(ip, job), 'broker unreachable')
    const gone = await page(`/messages/${m.messageId}`)
    expect(gone.text).toMatch(/data-status="FEIL"/)
    expect(gone.text).toContain('the message and its files were removed with it')
    expect(gone.text).not.toContain('id="retry"')
    // the file list outlives the payload: names and sizes, kept on the conversation
    expect(section(gone.text, 'files')).toMatch(/vedtak\.pdf.*application\/pdf.*5\.0 KiB/s)
    expect(gone.text).toContain('names and sizes are kept')
    const refused = await retryFrom(ip, m.messageId)
    expect(refused).toBe(`/messages/${m.messageId}?done=retry-none`)
  })

  it('looks up capabilities, showing a failed lookup as a message', async () => {
    const form = await page('/capabilities')
    expect(form.status).toBe(200)
    expect(form.text).toContain('name="identifier"')
    const found = await page(`/capabilities?identifier=${PEER}`)
    expect(found.status).toBe(200)
    expect(section(found.text, 'capabilities')).toMatch(/<tr data-service="DPO"><td>DPO<\/td>/)
    // whether a message by that service can leave from here
    expect(section(found.text, 'capabilities')).toMatch(
      /<td class="from-here"><span class="badge UP">can send<\/span>/,
    )
    const unknown = await page('/capabilities?identifier=999999999')
    expect(unknown.status).toBe(404)
    expect(unknown.text).toContain('id="lookup-error"')
    expect(unknown.text).toContain('999999999')
    const odd = await page(`/capabilities?identifier=${encodeURIComponent('<b>../jwk</b>')}`)
    expect(odd.status).toBeGreaterThanOrEqual(400)
    expect(odd.status).toBeLessThan(500)
    expect(odd.text).toContain('&lt;b&gt;../jwk&lt;/b&gt;')
    expect(odd.text).not.toContain('<b>../jwk')
  })

  it('shows the configuration with its secrets hidden', async () => {
    const { status, text } = await page('/configuration')
    expect(status).toBe(200)
    expect(text).toMatch(/data-service="DPO" data-enabled="true"/)
    expect(text).toContain('difi.move.org.number')
    expect(text).toMatch(/difi\.security\.user\.password<\/td><td class="mono muted" data-hidden="true">/)
    expect(text).not.toContain(TEST_USER.password)
  })

  it('serves its style sheet', async () => {
    const res = await ip.fetch('/web/style.css')
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(await res.text()).toContain('.badge.failed')
  })
})

describe('the web pages with Basic auth on', () => {
  it('answer 401 without credentials and leave /manage open', async () => {
    const ip = await startTestIp('sqlite', { overrides: { 'difi.security.enable': 'true' } })
    try {
      for (const path of [
        '/',
        '/conversations',
        `/messages/${randomUUID()}`,
        '/configuration',
        '/web/style.css',
      ]) {
        const res = await fetch(`${ip.url}${path}`)
        expect(res.status, path).toBe(401)
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="Realm"')
      }
      expect((await fetch(`${ip.url}/manage/health/liveness`)).status).toBe(200)
      expect((await fetch(`${ip.url}/v3/api-docs`)).status).toBe(200)
      expect((await ip.fetch('/')).status).toBe(200)
    } finally {
      await ip.close()
    }
  })
})

describe('the web pages with payloads in SQLite itself', () => {
  it('revive a given-up send whose files the database keeps (asked outside the retry transaction)', async () => {
    // the payload store is the database: a question to it inside the retry's transaction would wait
    // for the one SQLite connection that transaction holds, for ever
    const ip = await startTestIp('sqlite', { overrides: { 'difi.move.nextmove.use-db-persistence': 'true' } })
    try {
      const m = await sendOutgoing(ip, 'Given up', 'sak-db')
      const job = await failOnce(ip, m.messageId, null)
      const res = await retryFrom(ip, m.messageId)
      expect(res).toBe(`/messages/${m.messageId}?done=retry-revived`)
      expect(await jobRow(ip, job)).toMatchObject({ state: 'PENDING', attempts: 0 })
    } finally {
      await ip.close()
    }
  })
})

/** The HTML of the element with this id (up to the next section), for focused assertions. */
function section(page: string | { text: string }, id: string): string {
  const text = typeof page === 'string' ? page : page.text
  const start = text.indexOf(`id="${id}"`)
  if (start < 0) throw new Error(`no element with id ${id}`)
  const end = text.indexOf('</section>', start)
  return text.slice(start, end < 0 ? undefined : end)
}

/** An arkivmelding to PEER through the one-request API; its reference is `<saksmappe>-<journalpostnummer>`. */
async function sendOutgoing(ip: TestIp, title: string, saksmappeId: string) {
  const sbd = arkivmeldingSbd({ receiver: PEER, hoveddokument: 'vedtak.pdf' }) as Json
  const scope = sbd.standardBusinessDocumentHeader.businessScope.scope[0]
  scope.instanceIdentifier = randomUUID()
  const xml = arkivmeldingXml({ files: ['vedtak.pdf'], title, saksmappeId, journalpostnummer: 7 })
  const form = new FormData()
  form.append('sbd', new Blob([JSON.stringify(sbd)], { type: 'application/json' }))
  form.append('Arkivmelding', new Blob([xml], { type: 'application/xml' }), 'arkivmelding.xml')
  form.append('Vedtak', new Blob([new Uint8Array(5 * 1024)], { type: 'application/pdf' }), 'vedtak.pdf')
  const res = await ip.json<Json>('/api/messages/out/multipart', { method: 'POST', body: form })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  const messageId = res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
  return {
    messageId: messageId as string,
    conversationId: scope.instanceIdentifier as string,
    reference: `${saksmappeId}-7`,
  }
}

/** An arkivmelding from PEER, taken in as the DPO poller takes one in. */
async function deliverIncoming(ip: TestIp): Promise<string> {
  const messageId = randomUUID()
  const sbd = incomingArkivmeldingSbd(messageId, { from: PEER })
  mkdirSync(ip.payloads.tempDir, { recursive: true })
  const tempPath = join(ip.payloads.tempDir, `${randomUUID()}.download`)
  writeFileSync(tempPath, Buffer.alloc(2048, 1))
  const outcome = await intakeIncoming(ip.deps, {
    sbd,
    serviceIdentifier: 'DPO',
    asic: { tempPath, size: 2048 },
    transferRef: null,
    authenticatedSender: `0192:${PEER}`,
  })
  expect(outcome).toBe('stored')
  return messageId
}

/**
 * One failed attempt of the message's send job, as the runner records it: the job claimed (lease, one
 * more attempt) and failed with the outbox's own `fail`, to run again in `retryInMs` or given up (null).
 */
async function failOnce(ip: TestIp, messageId: string, retryInMs: number | null): Promise<number> {
  const now = ip.clock.now().getTime()
  const db = ip.db.kysely
  const job = (await jobsForMessage(db, messageId)).find((j) => isSendJob(j.kind))!
  await db
    .updateTable('jobs')
    .set({ locked_by: 'w', locked_until: now + 60_000, attempts: sql`attempts + 1` })
    .where('id', '=', job.id)
    .execute()
  await fail(db, job.id, 'w', 'broker unreachable', retryInMs === null ? null : now + retryInMs, now)
  return job.id
}

/** The operator's retry, posted from our own page; where it redirects to. */
async function retryFrom(ip: TestIp, messageId: string): Promise<string | null> {
  const res = await ip.fetch(`/messages/${messageId}/retry`, {
    method: 'POST',
    headers: SAME_ORIGIN,
    redirect: 'manual',
  })
  return res.headers.get('location')
}

async function jobRow(ip: TestIp, id: number) {
  return ip.db.kysely.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}
