import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KeystoreConfig, KeystoreError, loadBusinessKeys } from './keys.js'
import { makeIdentity, makeTempDir, openssl, type TestIdentity } from './test-support.js'

let tmp: ReturnType<typeof makeTempDir>
let org: TestIdentity
let ca: TestIdentity
let p12: string
// a minute on: the certificates are made in beforeAll, valid from the second they are made
const now = new Date(Date.now() + 60_000)

beforeAll(() => {
  tmp = makeTempDir('keys-test-')
  org = makeIdentity(tmp.dir, 'org')
  ca = makeIdentity(tmp.dir, 'ca')
  p12 = join(tmp.dir, 'ks.p12')
  const base = ['pkcs12', '-export', '-inkey', org.keyPath, '-in', org.certPath, '-certfile', ca.certPath]
  openssl([...base, '-name', 'virksomhet', '-out', p12, '-passout', 'pass:changeit'])
})
afterAll(() => tmp.cleanup())

const ks = (o: Partial<KeystoreConfig>): KeystoreConfig => ({
  path: p12,
  password: 'changeit',
  alias: 'virksomhet',
  type: 'PKCS12',
  ...o,
})
const failure = (o: Partial<KeystoreConfig>, at = now): Promise<string> =>
  loadBusinessKeys(ks(o), at).then(
    () => expect.fail('should have failed'),
    (e: unknown) => {
      expect(e).toBeInstanceOf(KeystoreError)
      return (e as Error).message
    },
  )

describe('loadBusinessKeys from PKCS#12', () => {
  it('loads the key, certificate and chain by alias (case-insensitive, as Java)', async () => {
    const k = await loadBusinessKeys(ks({ alias: 'VIRKSOMHET' }), now)
    expect(k.certPem).toBe(org.certPem)
    expect(k.chainPem).toEqual([ca.certPem])
    expect(k.keyPem).toContain('BEGIN PRIVATE KEY')
  })

  it('takes the only key when no alias is set', async () => {
    expect((await loadBusinessKeys(ks({ alias: null }), now)).certPem).toBe(org.certPem)
  })

  it('says what is wrong', async () => {
    expect(await failure({ password: 'wrong' })).toMatch(/wrong password/)
    expect(await failure({ alias: 'other' })).toMatch(
      /alias other is not in the key store .* \(it holds: virksomhet\)/,
    )
    expect(await failure({}, new Date('2100-01-01'))).toMatch(/business certificate O=Test, CN=org expired/)
    expect(await failure({}, new Date('2000-01-01'))).toMatch(/is not valid before/)
    expect(await failure({ path: null })).toMatch(/keystore.path is empty/)
    expect(await failure({ path: join(tmp.dir, 'missing.p12') })).toMatch(/cannot read the key store/)
    expect(await failure({ type: 'JKS' })).toMatch(/not supported: convert it/)
    expect(await failure({ path: org.certPath })).toMatch(/not a PKCS#12 key store/)
  })
})

describe('loadBusinessKeys from PEM', () => {
  it('reads a key and its certificate, and refuses a certificate of another key', async () => {
    const pem = join(tmp.dir, 'org.pem')
    writeFileSync(pem, org.keyPem + org.certPem + ca.certPem)
    const k = await loadBusinessKeys(ks({ path: pem, type: 'PEM', alias: null }), now)
    expect([k.certPem, k.chainPem]).toEqual([org.certPem, [ca.certPem]])
    writeFileSync(pem, org.keyPem + ca.certPem)
    expect(await failure({ path: pem, type: 'PEM', alias: null })).toMatch(/no certificate for the key/)
  })
})
