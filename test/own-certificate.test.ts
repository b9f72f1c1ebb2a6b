import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeIdentity, makeTempDir } from '../src/packaging/test-support.js'
import { ManualClock } from '../src/util/time.js'
import { STORES } from './support/db.js'
import { arkivmeldingSbd, jsonBody, startTestIp, type TestIp } from './support/ip.js'

type Json = Record<string, any>

/**
 * The first check of send and the third of create (src/sbd/rules.ts): an expired business certificate
 * stops create and send with InvalidCertificateException.
 */
describe.each(STORES)('the own business certificate on %s', (kind) => {
  let dir: ReturnType<typeof makeTempDir>
  let keys: { keyPem: string; certPem: string; chainPem: string[] }
  let ip: TestIp | undefined
  beforeAll(() => {
    dir = makeTempDir('own-cert-')
    const id = makeIdentity(dir.dir, 'org', { days: 1 })
    keys = { keyPem: id.keyPem, certPem: id.certPem, chainPem: [] }
  })
  afterAll(() => dir.cleanup())
  afterEach(async () => ip?.close())

  it('lets messages through while it is valid, refuses create and send once it has expired', async () => {
    const clock = new ManualClock(new Date())
    ip = await startTestIp(kind, { clock, keys })
    const fresh = () => arkivmeldingSbd()
    const ok = await ip.json<Json>('/api/messages/out', jsonBody(fresh()))
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    const messageId = ok.body.standardBusinessDocumentHeader.documentIdentification.instanceIdentifier

    clock.advance(3 * 86_400_000)
    const refused = await ip.json<Json>('/api/messages/out', jsonBody(fresh()))
    expect(refused.status).toBe(400)
    expect(refused.body.exception).toBe('no.difi.meldingsutveksling.exceptions.InvalidCertificateException')
    expect(refused.body.message).toMatch(/business certificate .* expired on/)
    const send = await ip.json<Json>(`/api/messages/out/${messageId}`, { method: 'POST' })
    expect(send.status).toBe(400)
    expect(send.body.exception).toBe('no.difi.meldingsutveksling.exceptions.InvalidCertificateException')
  })
})
