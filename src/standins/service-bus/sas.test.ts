import { describe, expect, it } from 'vitest'
import { openssl, opensslAvailable } from '../../packaging/test-support.js'
import { checkSas, EXPIRY_TOLERANCE_S, javaUrlEncode, parseSas, sasSignature, sasToken } from './sas.js'

// the reference's SAS token worked through: an invented key, the reference's key name, se fixed
const KEY = 'c2FtcGxlLWtleS1ub3QtcmVhbC0xMjM0NTY3ODkwYWI='
const KEY_NAME = 'MoveDPE-pilotPolicy'
const SE = 1767225728
const SEND_URL = 'https://efm-dpe-qa.servicebus.windows.net/nextbestqueue910075935innsyn/messages'
const HEAD_URL = 'https://efm-dpe-qa.servicebus.windows.net/nextbestqueue991825827data/messages/head'
const SEND_HEADER =
  'SharedAccessSignature sr=https%3A%2F%2Fefm-dpe-qa.servicebus.windows.net%2Fnextbestqueue910075935innsyn%2Fmessages&sig=zTIGB6bj57zaGKO9UzNGvh9wj3amsS5w1WPSWwObEG0%3D&se=1767225728&skn=MoveDPE-pilotPolicy'
const HEAD_SIG = 'LuuNhO1QqxpwW%2FN8DJ6nALfDeDQPH36ex04PVyaPBfc%3D'
const KEYS = { [KEY_NAME]: KEY }
const AT_SE = SE * 1000

describe('the SAS token', () => {
  it('makes the worked example’s send header exactly', () => {
    expect(sasToken({ resourceUrl: SEND_URL, keyName: KEY_NAME, key: KEY, expiresAt: SE })).toBe(SEND_HEADER)
  })

  it('makes the second example’s signature for the receive URL', () => {
    const header = sasToken({ resourceUrl: HEAD_URL, keyName: KEY_NAME, key: KEY, expiresAt: SE })
    expect(header).toBe(
      `SharedAccessSignature sr=https%3A%2F%2Fefm-dpe-qa.servicebus.windows.net%2Fnextbestqueue991825827data%2Fmessages%2Fhead&sig=${HEAD_SIG}&se=${SE}&skn=${KEY_NAME}`,
    )
  })

  it.runIf(opensslAvailable())(
    'signs as openssl dgst -sha256 -hmac does, over the encoded sr, LF and se',
    () => {
      for (const url of [SEND_URL, HEAD_URL]) {
        const sr = javaUrlEncode(url)
        const hex = openssl(['dgst', '-sha256', '-hmac', KEY, '-hex'], false, Buffer.from(`${sr}\n${SE}`))
          .toString()
          .trim()
          .split(/\s+/)
          .pop()!
        expect(Buffer.from(sasSignature(KEY, sr, SE), 'base64').toString('hex')).toBe(hex)
      }
    },
  )

  it('encodes as Java’s URLEncoder: . - * _ kept, space as +, the rest upper-case %XX', () => {
    expect(javaUrlEncode("a.b-c*d_e f/g:h+i=j!k'l(m)n~o$")).toBe(
      'a.b-c*d_e+f%2Fg%3Ah%2Bi%3Dj%21k%27l%28m%29n%7Eo%24',
    )
  })
})

describe('checking a SAS token', () => {
  const check = (header: string | undefined, url = SEND_URL, nowMs = AT_SE, keys = KEYS) =>
    checkSas(header, [url], keys, nowMs)

  it('takes the worked example for its URL, and for a URL under it', () => {
    expect(check(SEND_HEADER)).toEqual({ ok: true, keyName: KEY_NAME })
    expect(check(SEND_HEADER, `${SEND_URL}/4/0e7c7a2e-1b2f-4a3c-9d8e-000000000001`).ok).toBe(true)
  })

  it('takes the fields in any order and compares the resource case-insensitively', () => {
    const reordered = `SharedAccessSignature skn=${KEY_NAME}&se=${SE}&sig=zTIGB6bj57zaGKO9UzNGvh9wj3amsS5w1WPSWwObEG0%3D&sr=${javaUrlEncode(SEND_URL)}`
    expect(check(reordered).ok).toBe(true)
    expect(check(SEND_HEADER, SEND_URL.replace('nextbestqueue', 'NextBestQueue')).ok).toBe(true)
  })

  it('refuses a token signed with another key', () => {
    const other = sasToken({ resourceUrl: SEND_URL, keyName: KEY_NAME, key: `${KEY}x`, expiresAt: SE })
    expect(check(other)).toEqual({ ok: false, reason: 'the signature does not match' })
  })

  it('refuses a key name it does not know, and a header that is not a SAS', () => {
    const unknown = sasToken({
      resourceUrl: SEND_URL,
      keyName: 'RootManageSharedAccessKey',
      key: KEY,
      expiresAt: SE,
    })
    expect(check(unknown)).toMatchObject({ ok: false, reason: expect.stringMatching(/unknown key name/) })
    expect(check(undefined).ok).toBe(false)
    expect(check('Bearer abc').ok).toBe(false)
    expect(check(SEND_HEADER.replace(/&skn=[^&]+/, '')).ok).toBe(false)
  })

  it('refuses a token whose sr covers another queue, or only part of a queue name', () => {
    expect(check(SEND_HEADER, SEND_URL.replace('910075935innsyn', '910075935data')).ok).toBe(false)
    const partial = sasToken({
      resourceUrl: SEND_URL.replace('/messages', ''),
      keyName: KEY_NAME,
      key: KEY,
      expiresAt: SE,
    })
    expect(check(partial, SEND_URL).ok).toBe(true)
    expect(check(partial, SEND_URL.replace('innsyn/messages', 'innsynx/messages')).ok).toBe(true)
    // a prefix is a prefix, as Azure's rule says: only a different start is refused
    expect(
      check(partial, 'https://efm-dpe-qa.servicebus.windows.net/nextbestqueue999999999innsyn/messages').ok,
    ).toBe(false)
  })

  it('refuses a token whose sr was changed after signing', () => {
    const forged = SEND_HEADER.replace('910075935innsyn', '910075936innsyn')
    expect(check(forged, SEND_URL.replace('910075935', '910075936'))).toEqual({
      ok: false,
      reason: 'the signature does not match',
    })
  })

  it('tolerates the reference’s float-rounded expiry, up to 300 s past se, and no further', () => {
    // the reference's se lands as far as 44 s before now
    expect(check(SEND_HEADER, SEND_URL, AT_SE + 44_000).ok).toBe(true)
    expect(check(SEND_HEADER, SEND_URL, AT_SE + EXPIRY_TOLERANCE_S * 1000).ok).toBe(true)
    expect(check(SEND_HEADER, SEND_URL, AT_SE + (EXPIRY_TOLERANCE_S + 1) * 1000)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    })
  })

  it('parses the four fields as they travel, sr still encoded', () => {
    expect(parseSas(SEND_HEADER)).toEqual({
      sr: javaUrlEncode(SEND_URL),
      sig: 'zTIGB6bj57zaGKO9UzNGvh9wj3amsS5w1WPSWwObEG0%3D',
      se: String(SE),
      skn: KEY_NAME,
    })
  })
})
