import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkSas, javaUrlDecode, javaUrlEncode, sasAuthorization, sasExpiry } from './sas.js'

// the worked examples of the reference's SAS token (an invented key, a fixed se), checked with openssl
const KEY = 'c2FtcGxlLWtleS1ub3QtcmVhbC0xMjM0NTY3ODkwYWI='
const KEY_NAME = 'MoveDPE-pilotPolicy'
const SE = 1767225728
const SEND_URL = 'https://efm-dpe-qa.servicebus.windows.net/nextbestqueue910075935innsyn/messages'
const HEAD_URL = 'https://efm-dpe-qa.servicebus.windows.net/nextbestqueue991825827data/messages/head'

const keyFor = (name: string) => (name === KEY_NAME ? KEY : undefined)

describe('the SAS header', () => {
  it('is the first worked example (a send URL), byte for byte', () => {
    expect(sasAuthorization({ resourceUrl: SEND_URL, keyName: KEY_NAME, key: KEY, expiry: SE })).toBe(
      'SharedAccessSignature sr=https%3A%2F%2Fefm-dpe-qa.servicebus.windows.net%2Fnextbestqueue910075935innsyn' +
        '%2Fmessages&sig=zTIGB6bj57zaGKO9UzNGvh9wj3amsS5w1WPSWwObEG0%3D&se=1767225728&skn=MoveDPE-pilotPolicy',
    )
  })

  it('is the second worked example (a receive URL), byte for byte', () => {
    expect(sasAuthorization({ resourceUrl: HEAD_URL, keyName: KEY_NAME, key: KEY, expiry: SE })).toBe(
      'SharedAccessSignature sr=https%3A%2F%2Fefm-dpe-qa.servicebus.windows.net%2Fnextbestqueue991825827data' +
        '%2Fmessages%2Fhead&sig=LuuNhO1QqxpwW%2FN8DJ6nALfDeDQPH36ex04PVyaPBfc%3D&se=1767225728' +
        '&skn=MoveDPE-pilotPolicy',
    )
  })

  it('signs what openssl signs: the encoded URL, one LF, the expiry, with the key as text', () => {
    const url = 'http://127.0.0.1:9095/dpe/nextbestqueue910075918innsyn/messages/4f1c/9a8b-77'
    const key = 'ikke base64 æøå / + ='
    const stringToSign = `${javaUrlEncode(url)}\n${SE}`
    const hex = execFileSync('openssl', ['dgst', '-sha256', '-hmac', key, '-r'], { input: stringToSign })
      .toString()
      .split(' ')[0]!
    const header = sasAuthorization({ resourceUrl: url, keyName: KEY_NAME, key, expiry: SE })
    const sig = javaUrlDecode(/sig=([^&]+)/.exec(header)![1]!)!
    expect(Buffer.from(sig, 'base64').toString('hex')).toBe(hex)
  })

  it('refuses a URL with a query: the reference signs the URL without one', () => {
    expect(() =>
      sasAuthorization({ resourceUrl: `${HEAD_URL}?timeout=10`, keyName: KEY_NAME, key: KEY, expiry: SE }),
    ).toThrow('without its query')
  })
})

describe("Java's URLEncoder", () => {
  it('keeps A-Z a-z 0-9 . - * _, writes a space as + and the rest as upper-case %XX of UTF-8', () => {
    expect(javaUrlEncode("a.b-c*d_e f/g:h+i=j~k!l'm(n)ø")).toBe(
      'a.b-c*d_e+f%2Fg%3Ah%2Bi%3Dj%7Ek%21l%27m%28n%29%C3%B8',
    )
  })

  it('decodes back to the text', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => javaUrlDecode(javaUrlEncode(s)) === s))
  })
})

describe('the expiry', () => {
  it('is whole seconds after now, never rounded into the past as the reference does', () => {
    expect(sasExpiry(1_767_225_700_999)).toBe(1_767_225_700 + 120)
    expect(sasExpiry(1_767_225_700_000, 20)).toBe(1_767_225_720)
    fc.assert(
      fc.property(fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), (now) => {
        const se = sasExpiry(now)
        return Number.isInteger(se) && se * 1000 > now + 119_000
      }),
    )
  })

  it('refuses a lifetime outside 20-300 s', () => {
    expect(() => sasExpiry(0, 19)).toThrow('20-300 s')
    expect(() => sasExpiry(0, 301)).toThrow('20-300 s')
  })
})

describe('checking a SAS header', () => {
  const nowMs = SE * 1000 - 60_000
  const header = sasAuthorization({ resourceUrl: SEND_URL, keyName: KEY_NAME, key: KEY, expiry: SE })

  it('accepts a header made for the URL, or a prefix of it, with its query', () => {
    expect(checkSas(header, { url: SEND_URL, keyFor, nowMs })).toEqual({ ok: true, keyName: KEY_NAME })
    const queue = SEND_URL.replace(/\/messages$/, '')
    const broad = sasAuthorization({ resourceUrl: queue, keyName: KEY_NAME, key: KEY, expiry: SE })
    expect(checkSas(broad, { url: `${SEND_URL}/head?timeout=5`, keyFor, nowMs }).ok).toBe(true)
  })

  it('accepts the parameters in any order', () => {
    const [, params] = header.split(' ')
    const reordered = `SharedAccessSignature ${params!.split('&').reverse().join('&')}`
    expect(checkSas(reordered, { url: SEND_URL, keyFor, nowMs }).ok).toBe(true)
  })

  it('tolerates the reference expiring 300 s in the past, no more', () => {
    expect(checkSas(header, { url: SEND_URL, keyFor, nowMs: (SE + 300) * 1000 + 999 }).ok).toBe(true)
    expect(checkSas(header, { url: SEND_URL, keyFor, nowMs: (SE + 301) * 1000 })).toEqual({
      ok: false,
      reason: `the token expired at ${SE}`,
    })
  })

  it('refuses another key, another URL, a changed expiry and a missing header', () => {
    const other = sasAuthorization({ resourceUrl: SEND_URL, keyName: KEY_NAME, key: 'annen', expiry: SE })
    expect(checkSas(other, { url: SEND_URL, keyFor, nowMs })).toMatchObject({
      ok: false,
      reason: /signature/,
    })
    expect(checkSas(header, { url: HEAD_URL, keyFor, nowMs })).toMatchObject({ ok: false, reason: /cover/ })
    const later = header.replace(`se=${SE}`, `se=${SE + 3600}`)
    expect(checkSas(later, { url: SEND_URL, keyFor, nowMs })).toMatchObject({
      ok: false,
      reason: /signature/,
    })
    expect(checkSas(header, { url: SEND_URL, keyFor: () => undefined, nowMs })).toMatchObject({
      ok: false,
      reason: /no key named/,
    })
    expect(checkSas(undefined, { url: SEND_URL, keyFor, nowMs })).toMatchObject({ ok: false })
    expect(checkSas(`Bearer ${header}`, { url: SEND_URL, keyFor, nowMs })).toMatchObject({ ok: false })
  })
})
