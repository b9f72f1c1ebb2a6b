import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'

/**
 * Whatever a client sends, the answer is the reference's error JSON with a 4xx (or a 2xx), never a
 * 500, and a refused create stores nothing.
 */
describe('endpoints under arbitrary input', () => {
  let ip: TestIp
  beforeAll(async () => {
    ip = await startTestIp('sqlite')
  })
  afterAll(async () => ip.close())

  const expectClientError = async (res: Response) => {
    const text = await res.text()
    expect(res.status, text).toBeLessThan(500)
    if (res.status >= 400) {
      const body = JSON.parse(text)
      expect(body).toMatchObject({
        status: res.status,
        path: expect.any(String),
        timestamp: expect.any(String),
      })
    }
    return res.status
  }

  const count = async (table: 'out_messages' | 'conversations') =>
    (await ip.db.kysely.selectFrom(table).select('id').execute()).length

  it('POST /api/messages/out with any JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const before = await count('out_messages')
        const status = await expectClientError(await ip.fetch('/api/messages/out', jsonBody(value)))
        if (status >= 400) expect(await count('out_messages')).toBe(before)
      }),
      { numRuns: 150 },
    )
  })

  it('POST /api/messages/out with mutated valid SBDs', async () => {
    const mutations = fc.record({
      path: fc.constantFrom(
        ['standardBusinessDocumentHeader', 'headerVersion'],
        ['standardBusinessDocumentHeader', 'receiver'],
        ['standardBusinessDocumentHeader', 'sender'],
        ['standardBusinessDocumentHeader', 'documentIdentification'],
        ['standardBusinessDocumentHeader', 'documentIdentification', 'type'],
        ['standardBusinessDocumentHeader', 'documentIdentification', 'standard'],
        ['standardBusinessDocumentHeader', 'documentIdentification', 'instanceIdentifier'],
        ['standardBusinessDocumentHeader', 'documentIdentification', 'creationDateAndTime'],
        ['standardBusinessDocumentHeader', 'businessScope'],
        ['standardBusinessDocumentHeader', 'businessScope', 'scope'],
        ['arkivmelding'],
        ['arkivmelding', 'sikkerhetsnivaa'],
        ['arkivmelding', 'hoveddokument'],
        ['arkivmelding', 'dpv'],
      ),
      value: fc.oneof(fc.jsonValue(), fc.string(), fc.constant(null), fc.integer()),
    })
    await fc.assert(
      fc.asyncProperty(mutations, async ({ path, value }) => {
        const sbd = arkivmeldingSbd() as Record<string, any>
        let target = sbd
        for (const key of path.slice(0, -1)) target = target[key] ??= {}
        target[path[path.length - 1]!] = value
        const before = await count('conversations')
        const status = await expectClientError(await ip.fetch('/api/messages/out', jsonBody(sbd)))
        if (status >= 400) expect(await count('conversations')).toBe(before)
      }),
      { numRuns: 150 },
    )
  })

  it('GET /api/conversations and /api/statuses with any query', async () => {
    const names = [
      'page',
      'size',
      'sort',
      'direction',
      'finished',
      'pollable',
      'serviceIdentifier',
      'lastUpdateFrom',
      'lastUpdateTo',
      'id',
      'fromDateTime',
      'toDateTime',
      'status',
      'messageId',
    ]
    const query = fc.array(fc.tuple(fc.constantFrom(...names), fc.string()), { maxLength: 4 })
    await fc.assert(
      fc.asyncProperty(
        query,
        fc.constantFrom('/api/conversations', '/api/statuses', '/api/messages/out'),
        async (pairs, path) => {
          const qs = new URLSearchParams(pairs).toString()
          await expectClientError(await ip.fetch(`${path}?${qs}`))
        },
      ),
      { numRuns: 150 },
    )
  })

  it('PUT /api/messages/out/{id} with any Content-Disposition', async () => {
    const res = await ip.json<Record<string, any>>('/api/messages/out', jsonBody(arkivmeldingSbd()))
    const id = res.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string({ maxLength: 20 }), async (disposition, type) => {
        const headers: Record<string, string> = {}
        // header values must be Latin-1 without line breaks to be sent at all
        const clean = (s: string) => s.replace(/[^\x20-\x7e]/g, '')
        headers['content-disposition'] = clean(disposition)
        headers['content-type'] = clean(type)
        await expectClientError(
          await ip.fetch(`/api/messages/out/${id}`, { method: 'PUT', headers, body: 'data' }),
        )
      }),
      { numRuns: 150 },
    )
  })
})
