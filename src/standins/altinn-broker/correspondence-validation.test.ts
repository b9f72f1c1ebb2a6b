import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../util/time.js'
import { correspondenceClient, type FilePart, file, ipFields } from './correspondence/test-support.js'
import { startAltinnBroker } from './server.js'
import { capturingLogger, tempDir } from './test-support.js'

// Each of Altinn's checks a sender can trigger, through real HTTP, with its status and errorCode; and
// the order that matters to the integration point: a known idempotentKey is 409 before anything else.

const dir = tempDir()
const clock = new ManualClock('2026-03-10T10:00:00Z')
const RESERVED = '01819040180'
const UNKNOWN_ORG = '910000001'
let broker: Awaited<ReturnType<typeof startAltinnBroker>>
let client: ReturnType<typeof correspondenceClient>
let token: string

beforeAll(async () => {
  broker = await startAltinnBroker({
    port: 0,
    dataDir: dir.path,
    logger: capturingLogger().logger,
    clock,
    correspondence: { reservedPersons: [RESERVED], unknownRecipients: [UNKNOWN_ORG] },
  })
  client = correspondenceClient(broker.url)
  token = await client.token()
})
afterAll(async () => {
  await broker?.close()
  dir.remove()
})

const TXT = [file('test.txt', 'hello')]
const at = (hours: number) => new Date(clock.now().getTime() + hours * 3_600_000).toISOString()
const second = {
  'correspondence.content.attachments[1].fileName': 'b.txt',
  'correspondence.content.attachments[1].sendersReference': 'r',
}
const named = (name: string) => ({ 'correspondence.content.attachments[0].fileName': name })

type Case = [
  name: string,
  overrides: Record<string, string | null>,
  files: FilePart[],
  status: number,
  code: number,
]

const CASES: Case[] = [
  ['two recipients with a key', { 'recipients[1]': '0192:910075918' }, TXT, 400, 1047],
  [
    'a confidential resource not marked confidential',
    { 'correspondence.resourceId': 'eformidling-dpv-taushetsbelagt' },
    TXT,
    400,
    1060,
  ],
  ['confidential on an open resource', { 'correspondence.isConfidential': 'true' }, TXT, 400, 1061],
  ['a recipient twice', { idempotentKey: null, 'recipients[1]': '0192:910094092' }, TXT, 400, 1006],
  ['an unknown recipient', { 'recipients[0]': `0192:${UNKNOWN_ORG}` }, TXT, 404, 1029],
  [
    'confirmation without a due date',
    { 'correspondence.isConfirmationNeeded': 'true', 'correspondence.dueDateTime': null },
    TXT,
    400,
    1016,
  ],
  [
    'a single reserved person',
    { 'recipients[0]': `urn:altinn:person:identifier-no:${RESERVED}` },
    TXT,
    422,
    1030,
  ],
  ['a due date in the past', { 'correspondence.dueDateTime': at(-1) }, TXT, 400, 1008],
  [
    'a due date before publication',
    { 'correspondence.requestedPublishTime': at(48), 'correspondence.dueDateTime': at(24) },
    TXT,
    400,
    1009,
  ],
  [
    'no content',
    Object.fromEntries(
      ipFields()
        .filter(([k]) => k.includes('.content.'))
        .map(([k]) => [k, null]),
    ),
    [],
    400,
    1019,
  ],
  ['a blank title', { 'correspondence.content.messageTitle': '  ' }, TXT, 400, 1020],
  ['a title with markup', { 'correspondence.content.messageTitle': '<b>Nye</b> lysrør' }, TXT, 400, 1002],
  ['a title too long', { 'correspondence.content.messageTitle': 'x'.repeat(256) }, TXT, 400, 1037],
  ['an empty body', { 'correspondence.content.messageBody': '' }, TXT, 400, 1021],
  ['a body too long', { 'correspondence.content.messageBody': 'x'.repeat(30_001) }, TXT, 400, 1022],
  ['an unknown language', { 'correspondence.content.language': 'sv' }, TXT, 400, 1023],
  ['a summary too long', { 'correspondence.content.messageSummary': 'x'.repeat(256) }, TXT, 400, 1042],
  ['a file without metadata', {}, [...TXT, file('b.txt', 'b')], 400, 1005],
  ['metadata naming another file', named('other.txt'), TXT, 400, 1005],
  ['no file name', named(''), TXT, 400, 2010],
  ['a file name too long', named(`${'x'.repeat(252)}.txt`), [file(`${'x'.repeat(252)}.txt`, 'a')], 400, 2011],
  ['a file name with a colon', named('a:b.txt'), [file('a:b.txt', 'a')], 400, 2012],
  ['a reserved file name', named('CON.txt'), [file('CON.txt', 'a')], 400, 2021],
  ['a file type Altinn refuses', named('brev.odt'), [file('brev.odt', 'a')], 400, 2013],
  ['an empty file', {}, [file('test.txt', '')], 400, 2004],
  [
    'e-mail without a subject',
    {
      'correspondence.notification.notificationChannel': 'Email',
      'correspondence.notification.emailSubject': null,
    },
    TXT,
    400,
    3002,
  ],
  [
    'a reminder e-mail without a body',
    {
      'correspondence.notification.reminderNotificationChannel': 'Email',
      'correspondence.notification.reminderEmailBody': '',
    },
    TXT,
    400,
    3003,
  ],
  [
    'SMS without a text',
    { 'correspondence.notification.notificationChannel': 'Sms', 'correspondence.notification.smsBody': null },
    TXT,
    400,
    3004,
  ],
  [
    'a reminder SMS without a text',
    {
      'correspondence.notification.reminderNotificationChannel': 'Sms',
      'correspondence.notification.reminderSmsBody': null,
    },
    TXT,
    400,
    3005,
  ],
  [
    'preferred channel without an SMS text',
    {
      'correspondence.notification.notificationChannel': 'SmsPreferred',
      'correspondence.notification.smsBody': null,
    },
    TXT,
    400,
    3006,
  ],
  [
    'a preferred reminder without a subject',
    {
      'correspondence.notification.reminderNotificationChannel': 'EmailPreferred',
      'correspondence.notification.reminderEmailSubject': null,
    },
    TXT,
    400,
    3007,
  ],
  ['both channels without an SMS text', { 'correspondence.notification.smsBody': null }, TXT, 400, 3024],
  [
    'both channels for the reminder without a subject',
    { 'correspondence.notification.reminderEmailSubject': null },
    TXT,
    400,
    3025,
  ],
]

describe('business checks', () => {
  it.each(CASES)('refuses %s', async (_name, overrides, files, status, code) => {
    const res = await client.upload(token, ipFields(overrides, clock.now()), files)
    expect(res.status, res.text).toBe(status)
    expect(res.json()).toMatchObject({
      status,
      errorCode: code,
      code: `CORR-0${code}`,
      detail: expect.any(String),
      traceId: expect.any(String),
    })
  })

  it('matches metadata to files by position, then by a unique name', async () => {
    const files = [file('b.txt', 'second'), file('test.txt', 'first')]
    const res = await client.upload(token, ipFields(second, clock.now()), files)
    expect(res.status, res.text).toBe(200)
    const id = res.json().correspondences[0].correspondenceId
    const item = (await client.sandbox(`/${id}`)).json()
    expect(item.attachments.map((a: { fileName: string; size: number }) => [a.fileName, a.size])).toEqual([
      ['test.txt', 5],
      ['b.txt', 6],
    ])
  })

  it('accepts Altinn-length notification texts the published spec would refuse', async () => {
    const long = 'x'.repeat(400)
    const res = await client.upload(
      token,
      ipFields({ 'correspondence.notification.smsBody': long }, clock.now()),
      TXT,
    )
    expect(res.status, res.text).toBe(200)
    const tooLong = ipFields({ 'correspondence.notification.smsBody': 'x'.repeat(2145) }, clock.now())
    const refused = await client.upload(token, tooLong, TXT)
    expect(refused.status).toBe(400)
    expect(refused.json().errors['Correspondence.Notification.SmsBody']).toBeDefined()
  })

  it('gives a reserved person among several recipients a Reserved copy instead of refusing', async () => {
    const fields = ipFields(
      { idempotentKey: null, 'recipients[1]': `urn:altinn:person:identifier-no:${RESERVED}` },
      clock.now(),
    )
    const res = await client.upload(token, fields, TXT)
    expect(res.status, res.text).toBe(200)
    expect(res.json().correspondences.map((c: { status: string }) => c.status)).toEqual([
      'Initialized',
      'Reserved',
    ])
  })

  it('lets ignoreReservation through to a reserved person', async () => {
    const fields = ipFields(
      { 'recipients[0]': RESERVED, 'correspondence.ignoreReservation': 'true' },
      clock.now(),
    )
    expect((await client.upload(token, fields, TXT)).status).toBe(200)
  })
})

describe('model binding', () => {
  it('refuses values that do not bind, naming each field', async () => {
    const fields = ipFields(
      {
        'recipients[0]': '910094092',
        idempotentKey: 'not-a-guid',
        'correspondence.isConfidential': 'ja',
        'correspondence.dueDateTime': 'tomorrow',
      },
      clock.now(),
    )
    const res = await client.upload(token, fields, TXT)
    expect(res.status).toBe(400)
    expect(Object.keys(res.json().errors).sort()).toEqual([
      'Correspondence.DueDateTime',
      'Correspondence.IsConfidential',
      'IdempotentKey',
      'Recipients[0]',
    ])
  })

  it('refuses a body that is not multipart with a 400, not a 500', async () => {
    const res = await client.call('/altinn-proxy/correspondence/api/v1/correspondence/upload', {
      method: 'POST',
      token,
      headers: { 'content-type': 'multipart/form-data' },
      body: 'nothing',
    })
    expect(res.status).toBe(400)
  })
})

describe('order', () => {
  it('answers 409 to a known key before any other check', async () => {
    const fields = ipFields({}, clock.now())
    expect((await client.upload(token, fields, TXT)).status).toBe(200)
    const broken = fields.map(([k, v]): [string, string] => [k, k.endsWith('language') ? 'sv' : v])
    const res = await client.upload(token, broken, [])
    expect(res.status).toBe(409)
    expect(res.json().errorCode).toBe(1034)
  })
})

describe('robustness', () => {
  it('never answers 500 to any form, whatever its keys, values and files', async () => {
    const keys = ipFields().map(([k]) => k)
    const key = fc.oneof(
      fc.constantFrom(...keys),
      fc.constantFrom(...keys).map((k) => k.toUpperCase()),
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.constantFrom('__proto__', 'correspondence.propertyList.__proto__', 'recipients[7]', 'constructor'),
    )
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('true', '', ' ', '2026-13-40', '0192:910094092'),
    )
    const form = fc.record({
      base: fc.boolean(),
      extra: fc.uniqueArray(fc.tuple(key, value), { maxLength: 8, selector: ([k]) => k }),
      files: fc.array(fc.tuple(fc.constantFrom('test.txt', 'b.pdf', 'x', ''), fc.string({ maxLength: 5 })), {
        maxLength: 3,
      }),
    })
    await fc.assert(
      fc.asyncProperty(form, async ({ base, extra, files }) => {
        const fields = new Map(base ? ipFields({}, clock.now()) : [])
        for (const [k, v] of extra) fields.set(k, v)
        const res = await client.upload(
          token,
          [...fields],
          files.map(([name, text]) => file(name, text)),
        )
        expect([200, 400, 404, 409, 422], res.text).toContain(res.status)
        if (res.status !== 200) expect(res.json().status).toBe(res.status)
      }),
      { numRuns: 200, seed: 16 },
    )
  })
})
