import { rmSync, statSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../util/time.js'
import { createCredentialStore } from './credentials.js'
import { tempDir } from './test-support.js'

const clock = new ManualClock('2026-03-10T10:00:00+01:00')
const subject = { commonName: 'TEST', serialNumber: '910075918' }
const dirs: ReturnType<typeof tempDir>[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove()
})

function dir() {
  const d = tempDir()
  dirs.push(d)
  return d.path
}

describe('generated credentials', () => {
  it('are made on first use: a private key only its owner reads, and a certificate for it', async () => {
    const data = dir()
    const c = await createCredentialStore(data, clock).get('910075918', subject)
    expect(c.keyFile).toBe(`${data}/keys/910075918.key.pem`)
    expect(c.certFile).toBe(`${data}/certs/910075918.cert.pem`)
    expect(statSync(c.keyFile).mode & 0o777).toBe(0o600)
    expect(statSync(`${data}/keys`).mode & 0o077).toBe(0)
    expect(c.certificate.checkPrivateKey(c.privateKey)).toBe(true)
    expect(c.certificate.subject).toContain('serialNumber=910075918')
    expect(new Date(c.certificate.validFrom).getTime()).toBeLessThanOrEqual(clock.now().getTime())
  })

  it('are reused after a restart, not made again', async () => {
    const data = dir()
    const first = await createCredentialStore(data, clock).get('svarut', subject)
    const again = await createCredentialStore(data, clock).get('svarut', { commonName: 'another subject' })
    expect(again.certificate.fingerprint256).toBe(first.certificate.fingerprint256)
    expect(again.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(
      first.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    )
  })

  it('are made once when asked for twice at the same time', async () => {
    const store = createCredentialStore(dir(), clock)
    const [a, b] = await Promise.all([store.get('x', subject), store.get('x', subject)])
    expect(a).toBe(b)
  })

  it('get a new certificate for a kept key whose certificate was removed', async () => {
    const data = dir()
    const first = await createCredentialStore(data, clock).get('x', subject)
    rmSync(first.certFile)
    const again = await createCredentialStore(data, clock).get('x', subject)
    expect(again.certificate.fingerprint256).not.toBe(first.certificate.fingerprint256)
    expect(again.certificate.checkPrivateKey(first.privateKey)).toBe(true)
  })

  it('refuse a damaged file rather than replace a key an integration point may hold', async () => {
    const data = dir()
    const first = await createCredentialStore(data, clock).get('x', subject)
    writeFileSync(first.certFile, 'not a certificate')
    await expect(createCredentialStore(data, clock).get('x', subject)).rejects.toThrow(
      /cannot read the generated key .* or certificate/,
    )
  })

  it('refuse a certificate that is not the key’s, naming both files', async () => {
    const data = dir()
    const a = await createCredentialStore(data, clock).get('a', subject)
    const b = await createCredentialStore(data, clock).get('b', subject)
    writeFileSync(a.certFile, b.certificate.toString())
    await expect(createCredentialStore(data, clock).get('a', subject)).rejects.toThrow(
      `${a.certFile} is not the certificate of ${a.keyFile}`,
    )
  })

  it('refuse names that are not plain file names', () => {
    const store = createCredentialStore(dir(), clock)
    for (const name of ['../escape', '.hidden', 'a/b', '', 'x'.repeat(65)]) {
      expect(() => store.get(name, subject)).toThrow(/cannot name a generated key/)
    }
  })
})
