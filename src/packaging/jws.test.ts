import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CompactSign } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JwsError, signJws, verifyJws } from './jws.js'
import { makeIdentity, makeTempDir, openssl, type TestIdentity } from './test-support.js'

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url')
const decode = (part: string) => Buffer.from(part, 'base64url').toString('utf8')

describe('DPI JWS', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let signer: TestIdentity
  let other: TestIdentity
  const payload = { standardBusinessDocument: { a: 'ø/æ', n: 3, list: [1, 2] } }

  beforeAll(() => {
    tmp = makeTempDir('jws-')
    signer = makeIdentity(tmp.dir, 'signer')
    other = makeIdentity(tmp.dir, 'other')
  })
  afterAll(() => tmp.cleanup())

  it('writes the header exactly as the reference: x5c (one DER certificate) first, then alg', async () => {
    const jws = await signJws(payload, signer)
    const [h, p] = jws.split('.')
    const der = new X509Certificate(signer.certPem).raw.toString('base64')
    expect(decode(h!)).toBe(`{"x5c":["${der}"],"alg":"RS256"}`)
    expect(JSON.parse(decode(p!))).toEqual(payload)
  })

  it('signs RS256 as openssl checks it over the signing input', async () => {
    const jws = await signJws(payload, signer)
    const [h, p, s] = jws.split('.')
    const input = join(tmp.dir, 'input')
    const sig = join(tmp.dir, 'sig')
    const pub = join(tmp.dir, 'signer.pub')
    writeFileSync(input, `${h}.${p}`)
    writeFileSync(sig, Buffer.from(s!, 'base64url'))
    openssl(['x509', '-in', signer.certPath, '-pubkey', '-noout', '-out', pub])
    expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, input]).toString()).toContain(
      'Verified OK',
    )
    // and a changed signing input does not verify
    writeFileSync(input, `${h}.${p}x`)
    const r = openssl(['dgst', '-sha256', '-verify', pub, '-signature', sig, input], true).toString()
    expect(r).not.toContain('Verified OK')
  })

  it('verifies a JWS openssl signed, and returns its payload and x5c certificate', async () => {
    const der = new X509Certificate(signer.certPem).raw.toString('base64')
    const signingInput = `${b64url(`{"x5c":["${der}"],"alg":"RS256"}`)}.${b64url(JSON.stringify(payload))}`
    const input = join(tmp.dir, 'input2')
    writeFileSync(input, signingInput)
    const sig = openssl(['dgst', '-sha256', '-sign', signer.keyPath, input])
    const out = await verifyJws(`${signingInput}.${b64url(sig)}`)
    expect(out.payload).toEqual(payload)
    expect(out.certificate.fingerprint256).toBe(new X509Certificate(signer.certPem).fingerprint256)
  })

  it('refuses a changed payload', async () => {
    const [h, , s] = (await signJws(payload, signer)).split('.')
    const changed = `${h}.${b64url(JSON.stringify({ ...payload, extra: 1 }))}.${s}`
    await expect(verifyJws(changed)).rejects.toThrow(JwsError)
  })

  it('refuses a JWS whose x5c names another certificate than the signer', async () => {
    const [, p, s] = (await signJws(payload, signer)).split('.')
    const der = new X509Certificate(other.certPem).raw.toString('base64')
    await expect(verifyJws(`${b64url(`{"x5c":["${der}"],"alg":"RS256"}`)}.${p}.${s}`)).rejects.toThrow(
      /does not verify/,
    )
  })

  it('refuses alg none, HS256 and a missing x5c', async () => {
    const der = new X509Certificate(signer.certPem).raw.toString('base64')
    const body = b64url(JSON.stringify(payload))
    await expect(verifyJws(`${b64url(`{"x5c":["${der}"],"alg":"none"}`)}.${body}.`)).rejects.toThrow(JwsError)
    await expect(verifyJws(`${b64url(`{"x5c":["${der}"],"alg":"none"}`)}.${body}.AAAA`)).rejects.toThrow(
      /not RS256/,
    )
    // an HS256 MAC keyed with the certificate's public key bytes (the classic confusion attack)
    const secret = new TextEncoder().encode(
      new X509Certificate(signer.certPem).publicKey.export({ type: 'spki', format: 'pem' }) as string,
    )
    const hs = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ x5c: [der], alg: 'HS256' })
      .sign(secret)
    await expect(verifyJws(hs)).rejects.toThrow(/not RS256/)
    const noX5c = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'RS256' })
      .sign((await import('node:crypto')).createPrivateKey(signer.keyPem))
    await expect(verifyJws(noX5c)).rejects.toThrow(/no x5c/)
    await expect(verifyJws('not-a-jws')).rejects.toThrow(JwsError)
  })
})
