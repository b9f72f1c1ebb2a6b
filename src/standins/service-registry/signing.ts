import { createPublicKey } from 'node:crypto'
import { CompactSign, calculateJwkThumbprint, exportJWK } from 'jose'
import type { Credential } from './credentials.js'

/**
 * The registry's signed answers (docs/service-registry-standin.md, "API", signed answers): a compact JWS,
 * RS256, header `{alg, x5c, kid}` where `kid` is the RFC 7638 thumbprint of the key, over the exact JSON (or
 * PEM) text; and the JWK set at `/jwk` with that one key.
 */
export interface RegistrySigner {
  /** the `/jwk` body */
  jwkSetJson: string
  kid: string
  sign(text: string): Promise<string>
}

export async function createSigner(credential: Credential): Promise<RegistrySigner> {
  const publicJwk = await exportJWK(createPublicKey(credential.privateKey))
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const x5c = [credential.certificate.raw.toString('base64')]
  const jwk = { kty: 'RSA', use: 'sig', alg: 'RS256', kid, x5c, n: publicJwk.n, e: publicJwk.e }
  const encoder = new TextEncoder()
  return {
    jwkSetJson: JSON.stringify({ keys: [jwk] }),
    kid,
    sign: (text) =>
      new CompactSign(encoder.encode(text))
        .setProtectedHeader({ alg: 'RS256', x5c, kid })
        .sign(credential.privateKey),
  }
}
