/**
 * The compact JWS that carries a DPI business message or receipt (the `forretningsmelding`): RS256 over
 * the UTF-8 JSON payload, with the signer's certificate in `x5c`. As the reference's CreateJWT the
 * protected header is exactly `{"x5c":["<base64 DER>"],"alg":"RS256"}`: one certificate, `x5c` first,
 * no `kid` and no `typ`. Used by the DPI channel and by the DPI stand-in alike.
 */

import { X509Certificate } from 'node:crypto'
import { CompactSign, compactVerify } from 'jose'
import { certificateOf, privateKeyOf } from './parsed-keys.js'

export class JwsError extends Error {
  override name = 'JwsError'
}

const B64URL = /^[A-Za-z0-9_-]+$/
const B64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Signs `payload` (serialised with JSON.stringify) with the key of `signer`, naming its certificate in `x5c`. */
export async function signJws(
  payload: unknown,
  signer: { keyPem: string; certPem: string },
): Promise<string> {
  const der = certificateOf(signer.certPem).raw
  const bytes = new TextEncoder().encode(JSON.stringify(payload))
  // insertion order is serialisation order: x5c before alg, as the reference writes it
  return new CompactSign(bytes)
    .setProtectedHeader({ x5c: [der.toString('base64')], alg: 'RS256' })
    .sign(privateKeyOf(signer.keyPem))
}

/**
 * Checks the RS256 signature of a compact JWS with the certificate in its `x5c[0]` and returns the parsed
 * JSON payload with that certificate. Any other algorithm (`none`, HS256, ...), a missing or unreadable
 * `x5c`, a changed header or payload, or a payload that is not JSON throws {@link JwsError}. Whether the
 * certificate is one to trust is the caller's question.
 */
export async function verifyJws(jws: string): Promise<{ payload: unknown; certificate: X509Certificate }> {
  if (typeof jws !== 'string') throw new JwsError('the JWS is not a string')
  const parts = jws.trim().split('.')
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)))
    throw new JwsError('not a compact JWS (three base64url parts)')
  const header = parseJson(Buffer.from(parts[0]!, 'base64url').toString('utf8'), 'header')
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new JwsError('the JWS header is not a JSON object')
  const { alg, x5c } = header as { alg?: unknown; x5c?: unknown }
  if (alg !== 'RS256') throw new JwsError(`the JWS algorithm is ${JSON.stringify(alg)}, not RS256`)
  const certificate = firstCertificate(x5c)
  if (certificate.publicKey.asymmetricKeyType !== 'rsa')
    throw new JwsError('the x5c certificate does not hold an RSA key')
  let payload: Uint8Array
  try {
    ;({ payload } = await compactVerify(jws.trim(), certificate.publicKey, { algorithms: ['RS256'] }))
  } catch (cause) {
    throw new JwsError(
      `the JWS signature does not verify with its x5c certificate: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload)
  } catch (cause) {
    throw new JwsError('the JWS payload is not UTF-8', { cause })
  }
  return { payload: parseJson(text, 'payload'), certificate }
}

function firstCertificate(x5c: unknown): X509Certificate {
  if (!Array.isArray(x5c) || x5c.length === 0) throw new JwsError('the JWS header has no x5c certificate')
  const first = x5c[0]
  // RFC 7515 4.1.6: standard base64 (not base64url) of the DER
  if (typeof first !== 'string' || !B64.test(first)) throw new JwsError('x5c[0] is not base64 text')
  try {
    return new X509Certificate(Buffer.from(first, 'base64'))
  } catch (cause) {
    throw new JwsError('x5c[0] is not an X.509 certificate', { cause })
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new JwsError(`the JWS ${what} is not JSON`, { cause })
  }
}
