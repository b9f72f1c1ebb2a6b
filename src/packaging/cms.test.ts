import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CmsError, decryptStream, decryptStreamWithin, encryptStream, type KeyEncryption } from './cms.js'
import { makeIdentity, makeTempDir, openssl, type TestIdentity } from './test-support.js'

let tmp: ReturnType<typeof makeTempDir>
let alice: TestIdentity
let bob: TestIdentity

beforeAll(() => {
  tmp = makeTempDir('cms-test-')
  alice = makeIdentity(tmp.dir, 'alice')
  bob = makeIdentity(tmp.dir, 'bob')
})
afterAll(() => tmp.cleanup())

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size))
  return out
}

async function run(input: Buffer[], stage: NodeJS.ReadWriteStream): Promise<Buffer> {
  const parts: Buffer[] = []
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      parts.push(c)
      cb()
    },
  })
  await pipeline(Readable.from(input), stage, sink)
  return Buffer.concat(parts)
}

const encrypt = (data: Buffer, keyEncryption?: KeyEncryption): Promise<Buffer> =>
  run(chunks(data, 4096), encryptStream(alice.certPem, { keyEncryption }))

const opensslEncrypt = (data: Buffer, extra: string[]): Buffer => {
  const file = join(tmp.dir, 'plain.bin')
  writeFileSync(file, data)
  const base = [
    'cms',
    '-encrypt',
    '-binary',
    '-aes256',
    '-in',
    file,
    '-recip',
    alice.certPath,
    '-outform',
    'DER',
  ]
  return openssl([...base, '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', ...extra])
}

const reject = (input: Buffer[], key = alice.keyPem, cert?: string): Promise<unknown> =>
  run(input, decryptStream(key, cert)).then(
    () => expect.fail('decryption should have failed'),
    (e: unknown) => e,
  )

describe('encryptStream is read by openssl cms -decrypt', () => {
  const data = Buffer.from('Hei verden! '.repeat(5000))

  for (const ke of ['rsaes-oaep-sha256', 'rsa-pkcs1'] as const) {
    it(`with ${ke}`, async () => {
      const file = join(tmp.dir, `ours-${ke}.cms`)
      writeFileSync(file, await encrypt(data, ke))
      const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file]).toString()
      expect(printed).toContain(ke === 'rsa-pkcs1' ? 'rsaEncryption' : 'rsaesOaep')
      expect(printed).toContain('aes-256-cbc')
      const out = openssl([
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        file,
        '-inkey',
        alice.keyPath,
        '-recip',
        alice.certPath,
      ])
      expect(out.equals(data)).toBe(true)
    })
  }

  it('for empty content', async () => {
    const file = join(tmp.dir, 'empty.cms')
    writeFileSync(file, await run([], encryptStream(alice.certPem)))
    expect(openssl(['cms', '-decrypt', '-inform', 'DER', '-in', file, '-inkey', alice.keyPath]).length).toBe(
      0,
    )
  })
})

describe('decryptStream reads what openssl cms -encrypt writes', () => {
  const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251))

  it('definite-length DER, fed 7 bytes at a time', async () => {
    const cms = opensslEncrypt(data, [])
    expect(cms[1]).not.toBe(0x80)
    expect((await run(chunks(cms, 7), decryptStream(alice.keyPem, alice.certPem))).equals(data)).toBe(true)
  })

  it('indefinite-length BER (-stream), with and without the certificate', async () => {
    const cms = opensslEncrypt(data, ['-stream'])
    expect(cms[1]).toBe(0x80)
    expect((await run(chunks(cms, 1000), decryptStream(alice.keyPem))).equals(data)).toBe(true)
    expect((await run([cms], decryptStream(alice.keyPem, alice.certPem))).equals(data)).toBe(true)
  })

  it('PKCS#1 v1.5 key transport', async () => {
    const file = join(tmp.dir, 'p1.bin')
    writeFileSync(file, data)
    const cms = openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-aes256',
      '-in',
      file,
      '-recip',
      alice.certPath,
      '-outform',
      'DER',
    ])
    expect((await run([cms], decryptStream(alice.keyPem, alice.certPem))).equals(data)).toBe(true)
  })
})

describe('decryptStream refuses bad input with CmsError', () => {
  it('garbage', async () => {
    const e = await reject([Buffer.from('this is not CMS at all')])
    expect(e).toBeInstanceOf(CmsError)
    expect((e as CmsError).reason).toBe('malformed')
  })

  it('empty input', async () => {
    expect(((await reject([])) as CmsError).reason).toBe('truncated')
  })

  it('truncation anywhere', async () => {
    const cms = await encrypt(Buffer.alloc(20_000, 1))
    for (const cut of [1, 30, 400, 5000, cms.length - 20, cms.length - 3]) {
      const e = await reject([cms.subarray(0, cut)])
      expect(e, `cut at ${cut}`).toBeInstanceOf(CmsError)
      expect(['truncated', 'corrupt']).toContain((e as CmsError).reason)
    }
  })

  it('a key that does not match the recipient', async () => {
    const cms = await encrypt(Buffer.from('secret'))
    expect(((await reject([cms], bob.keyPem)) as CmsError).reason).toBe('key-mismatch')
    expect(((await reject([cms], bob.keyPem, bob.certPem)) as CmsError).message).toMatch(
      /not encrypted to certificate/,
    )
  })

  it('a key that does not belong to the certificate given', () => {
    expect(() => decryptStream(bob.keyPem, alice.certPem)).toThrow(/does not belong to the certificate/)
  })

  it('trailing data and a corrupted content byte', async () => {
    const cms = await encrypt(Buffer.alloc(1000, 2))
    expect(((await reject([cms, Buffer.from([1, 2, 3])])) as CmsError).reason).toBe('malformed')
    const bad = Buffer.from(cms)
    bad[bad.length - 15]! ^= 0xff // inside the last cipher block: the padding check fails
    expect(await reject([bad])).toBeInstanceOf(CmsError)
  })
})

describe('decryptStreamWithin reads a CMS with other bytes after it', () => {
  const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251))
  const after = Buffer.from('PK\x07\x08 and a zip directory after the message')

  it('ours (indefinite), OpenSSL DER and BER: the content, and where the message ended, whatever the chunks', async () => {
    for (const cms of [await encrypt(data), opensslEncrypt(data, []), opensslEncrypt(data, ['-stream'])]) {
      for (const piece of [1, 7, 4096, cms.length + after.length]) {
        const within = decryptStreamWithin(alice.keyPem, alice.certPem)
        const plain = await run(chunks(Buffer.concat([cms, after]), piece), within)
        expect(plain.equals(data), `piece ${piece}`).toBe(true)
        expect(within.cmsBytes).toBe(cms.length)
      }
      // nothing after it, as decryptStream
      const alone = decryptStreamWithin(alice.keyPem)
      expect((await run([cms], alone)).equals(data)).toBe(true)
      expect(alone.cmsBytes).toBe(cms.length)
    }
  })

  it('fails as decryptStream does when the message is cut short or corrupted', async () => {
    const cms = await encrypt(Buffer.alloc(20_000, 1))
    for (const cut of [30, 5000, cms.length - 3]) {
      const within = decryptStreamWithin(alice.keyPem)
      await expect(run([cms.subarray(0, cut)], within)).rejects.toBeInstanceOf(CmsError)
      expect(within.cmsBytes).toBeNull()
    }
    const bad = Buffer.from(cms)
    bad[bad.length - 15]! ^= 0xff // the last cipher block: its padding fails the message, not what follows
    await expect(run([bad, after], decryptStreamWithin(alice.keyPem))).rejects.toBeInstanceOf(CmsError)
  })
})

describe('round trip', () => {
  it('any content and any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 1, max: 600 }),
        async (bytes, size) => {
          const data = Buffer.from(bytes)
          const cms = await encrypt(data)
          expect((await run(chunks(cms, size), decryptStream(alice.keyPem))).equals(data)).toBe(true)
        },
      ),
      { numRuns: 30, seed: 4 },
    )
  })

  it('200 MB through encrypt and decrypt in constant memory', async () => {
    const block = Buffer.alloc(64 * 1024)
    for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff
    const total = 3200
    const inHash = createHash('sha256')
    const outHash = createHash('sha256')
    let outBytes = 0
    // what must not happen is growth with the size: the second half of the stream may not need more
    // memory than the first did (each V8 sizes its young generation as it likes, so an absolute figure
    // alone says little); the baseline is taken once 20 MB have passed, when buffers and pools are warm
    const peaks = [0, 0]
    let rss0 = Number.POSITIVE_INFINITY
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < total; i++) {
          inHash.update(block)
          if (i === 320) rss0 = process.memoryUsage().rss
          const half = i < total / 2 ? 0 : 1
          if (i > 320) peaks[half] = Math.max(peaks[half]!, process.memoryUsage().rss)
          yield block
        }
      })(),
    )
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        outHash.update(c)
        outBytes += c.length
        cb()
      },
    })
    const started = Date.now()
    await pipeline(source, encryptStream(alice.certPem), decryptStream(alice.keyPem, alice.certPem), sink)
    expect(outBytes).toBe(total * block.length)
    expect(outHash.digest('hex')).toBe(inHash.digest('hex'))
    const [first, second] = peaks as [number, number]
    // holding the stream would add its 100 MB half; a garbage collector's whim stays well under half that
    expect(second - first).toBeLessThan(48 * 1024 * 1024)
    expect(Math.max(first, second) - rss0).toBeLessThan(64 * 1024 * 1024)
    expect(Date.now() - started).toBeLessThan(15_000)
  }, 30_000)
})
