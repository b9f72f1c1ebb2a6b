import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decryptStream, encryptStream } from '../../packaging/cms.js'
import { makeIdentity, makeTempDir, openssl } from '../../packaging/test-support.js'
import { DpeBodyError, decodeBody, encodeBody, maxBodyBytes } from './body.js'

const MAX = maxBodyBytes(2 * 1024 * 1024)

// the start of every CMS from the reference's BouncyCastle stream generator
const CMS_HEAD = Buffer.from('308006092A864886F70D010703A080', 'hex')
const cms = (size = 300) => Buffer.concat([CMS_HEAD, randomBytes(size)])

const STATUS_SBD = {
  standardBusinessDocumentHeader: {
    headerVersion: '1.0',
    sender: [{ identifier: { value: '0192:910075935', authority: 'iso6523-actorid-upis' } }],
    receiver: [],
    documentIdentification: { type: 'status', typeVersion: '2.0', standard: null },
    businessScope: {},
  },
  status: { status: 'MOTTATT' },
}

describe('the body sent', () => {
  it("is pretty-printed as the reference's Jackson, nulls and asic left out without files", () => {
    expect(encodeBody(STATUS_SBD, null).toString('utf8')).toBe(
      [
        '{',
        '  "sbd" : {',
        '    "standardBusinessDocumentHeader" : {',
        '      "headerVersion" : "1.0",',
        '      "sender" : [ {',
        '        "identifier" : {',
        '          "value" : "0192:910075935",',
        '          "authority" : "iso6523-actorid-upis"',
        '        }',
        '      } ],',
        '      "receiver" : [ ],',
        '      "documentIdentification" : {',
        '        "type" : "status",',
        '        "typeVersion" : "2.0"',
        '      },',
        '      "businessScope" : { }',
        '    },',
        '    "status" : {',
        '      "status" : "MOTTATT"',
        '    }',
        '  }',
        '}',
      ].join('\n'),
    )
  })

  it('carries the CMS as base64 of its base64, which starts as the stream generator makes it start', () => {
    const bytes = cms()
    const body = JSON.parse(encodeBody(STATUS_SBD, bytes).toString('utf8'))
    // a 27th character (E) holds only when the CMS's next base64 character is a digit, + or /;
    // the first 26 do not depend on what follows the header
    expect(body.asic).toMatch(/^TUlBR0NTcUdTSWIzRFFFSEE2Q0/)
    expect(Buffer.from(Buffer.from(body.asic, 'base64').toString('ascii'), 'base64')).toEqual(bytes)
  })
})

describe('the body received', () => {
  it('gives back what was encoded, with or without files', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string()))),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { nil: null }),
        (business, tail) => {
          const sbd = { ...business, standardBusinessDocumentHeader: { headerVersion: '1.0' } }
          const bytes = tail === null ? null : Buffer.concat([CMS_HEAD, tail])
          const decoded = decodeBody(encodeBody(sbd, bytes), MAX)
          expect(decoded.sbd).toEqual(sbd)
          expect(decoded.cms).toEqual(bytes)
          expect(decoded.asicLayers).toBe(bytes === null ? null : 2)
        },
      ),
    )
  })

  it('takes asic null as no files', () => {
    const body = Buffer.from(JSON.stringify({ sbd: STATUS_SBD, asic: null }))
    expect(decodeBody(body, MAX)).toMatchObject({ cms: null, asicLayers: null })
  })

  it('takes a single layer of base64 and says so, and MIME line breaks', () => {
    const bytes = cms(1000)
    const single = JSON.stringify({ sbd: STATUS_SBD, asic: bytes.toString('base64') })
    expect(decodeBody(Buffer.from(single), MAX)).toMatchObject({ cms: bytes, asicLayers: 1 })
    const wrapped = Buffer.from(bytes.toString('base64').replace(/.{76}/g, '$&\r\n')).toString('base64')
    const body = JSON.stringify({ sbd: STATUS_SBD, asic: wrapped })
    expect(decodeBody(Buffer.from(body), MAX)).toMatchObject({ cms: bytes, asicLayers: 2 })
  })

  it('tells one layer from two on real CMS: ours (BER, PKCS#1 v1.5) and openssl (DER)', async () => {
    const tmp = makeTempDir('dpe-body-')
    try {
      const who = makeIdentity(tmp.dir, 'mottaker')
      const content = randomBytes(5000)
      const ours = await buffer(
        Readable.from([content]).pipe(encryptStream(who.certPem, { keyEncryption: 'rsa-pkcs1' })),
      )
      writeFileSync(join(tmp.dir, 'in.bin'), content)
      const der = openssl([
        'cms',
        '-encrypt',
        '-binary',
        '-aes256',
        '-outform',
        'DER',
        '-in',
        join(tmp.dir, 'in.bin'),
        who.certPath,
      ])
      for (const bytes of [ours, der]) {
        const single = Buffer.from(JSON.stringify({ sbd: STATUS_SBD, asic: bytes.toString('base64') }))
        for (const [body, layers] of [
          [encodeBody(STATUS_SBD, bytes), 2],
          [single, 1],
        ] as const) {
          const decoded = decodeBody(body, MAX)
          expect(decoded.asicLayers).toBe(layers)
          const plain = await buffer(Readable.from([decoded.cms!]).pipe(decryptStream(who.keyPem)))
          expect(plain).toEqual(content)
        }
      }
    } finally {
      tmp.cleanup()
    }
  })

  const refused = (body: Buffer | string, reason: RegExp) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body
    expect(() => decodeBody(bytes, MAX)).toThrow(DpeBodyError)
    expect(() => decodeBody(bytes, MAX)).toThrow(reason)
  }

  it('refuses what is not such JSON with a reason for the dead-letter queue', () => {
    refused('<xml/>', /not UTF-8 JSON/)
    refused(Buffer.from([0x7b, 0xff, 0x7d]), /not UTF-8 JSON/)
    refused('[1]', /not a JSON object/)
    refused('{"asic":"AAAA"}', /no "sbd"/)
    refused('{"sbd":{"status":{}}}', /no "sbd" with a standardBusinessDocumentHeader/)
    const sbd = { standardBusinessDocumentHeader: {} }
    refused(JSON.stringify({ sbd, asic: 12 }), /"asic" is not a base64 string/)
    refused(JSON.stringify({ sbd, asic: 'ikke base64!' }), /"asic" is not base64/)
    refused(
      JSON.stringify({ sbd, asic: Buffer.from('PK\u0003\u0004 a zip').toString('base64') }),
      /"asic" once decoded is not base64/,
    )
    const notCms = Buffer.from(Buffer.from('a zip, not a CMS').toString('base64')).toString('base64')
    refused(JSON.stringify({ sbd, asic: notCms }), /decoded twice is not a CMS/)
  })

  it('refuses a body over the limit before parsing it', () => {
    const body = Buffer.alloc(MAX + 1, 0x20)
    expect(() => decodeBody(body, MAX)).toThrow(`the body has ${MAX + 1} bytes, more than the ${MAX}`)
    expect(maxBodyBytes(10 * 1024 * 1024)).toBe(40 * 1024 * 1024)
  })
})
