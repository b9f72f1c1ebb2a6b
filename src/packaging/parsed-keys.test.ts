import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CmsError } from './cms-envelope.js'
import { loadDecryptor } from './cms-recipient.js'
import { certificateOf, parsedOnce, privateKeyOf } from './parsed-keys.js'
import { makeIdentity, makeTempDir, type TestIdentity } from './test-support.js'

const tmp = makeTempDir('parsed-keys-')
let alice: TestIdentity
let bob: TestIdentity

beforeAll(() => {
  alice = makeIdentity(tmp.dir, 'alice')
  bob = makeIdentity(tmp.dir, 'bob')
})
afterAll(() => tmp.cleanup())

describe('keys and certificates parsed once', () => {
  it('gives the same parsed certificate and key for the same text, and the right one for another', () => {
    const a = certificateOf(alice.certPem)
    // a copy of the text, not the same string: the memo is by content
    expect(certificateOf(`${alice.certPem}`.slice(0))).toBe(a)
    expect(a.subject).toContain('alice')
    expect(certificateOf(bob.certPem).subject).toContain('bob')
    const key = privateKeyOf(alice.keyPem)
    expect(privateKeyOf(alice.keyPem)).toBe(key)
    expect(key.asymmetricKeyType).toBe('rsa')
    expect(privateKeyOf(bob.keyPem)).not.toBe(key)
  })

  it('does not remember a failure: a text that does not parse throws every time', () => {
    let calls = 0
    const parse = parsedOnce(4, (text) => {
      calls++
      if (text === 'bad') throw new Error('bad text')
      return { text }
    })
    expect(() => parse('bad')).toThrow('bad text')
    expect(() => parse('bad')).toThrow('bad text')
    expect(calls).toBe(2)
    expect(() => certificateOf('not a certificate')).toThrow()
    expect(() => certificateOf('not a certificate')).toThrow()
  })

  it('forgets a promise that rejects, and keeps one that resolves', async () => {
    let calls = 0
    const load = parsedOnce(4, async (text) => {
      calls++
      if (calls === 1) throw new Error('not yet')
      return text
    })
    await expect(load('k')).rejects.toThrow('not yet')
    await new Promise((resolve) => setImmediate(resolve))
    const again = load('k')
    await expect(again).resolves.toBe('k')
    expect(load('k')).toBe(again)
    expect(calls).toBe(2)
  })

  it('keeps at most its bound, the oldest going first', () => {
    let calls = 0
    const parse = parsedOnce(2, (text) => {
      calls++
      return { text }
    })
    const one = parse('1')
    parse('2')
    expect(parse('1')).toBe(one)
    expect(calls).toBe(2)
    parse('3') // '1' was first in, so it goes
    expect(parse('1')).not.toBe(one)
    expect(calls).toBe(4)
  })

  it('checks a key against its certificate on every call that fails, not only the first', () => {
    const mismatch = () => loadDecryptor(alice.keyPem, bob.certPem)
    expect(mismatch).toThrow(CmsError)
    expect(mismatch).toThrow(/does not belong to the certificate/)
    const ok = loadDecryptor(alice.keyPem, alice.certPem)
    expect(loadDecryptor(alice.keyPem, alice.certPem)).toBe(ok)
    expect(Object.isFrozen(ok)).toBe(true)
    expect(loadDecryptor(alice.keyPem)).not.toBe(ok)
    expect(loadDecryptor(alice.keyPem).cert).toBeNull()
  })
})
