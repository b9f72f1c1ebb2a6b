import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Clock } from '../../util/time.js'
import { createCredentialStore } from '../service-registry/credentials.js'
import { DpiProblem } from './errors.js'

/** A mailbox or print provider's key pair: packages are decrypted and receipts signed with it. */
export interface ProviderKeys {
  keyPem: string
  certPem: string
}

/**
 * The providers' keys are the ServiceRegistry stand-in's generated credentials (`keys/<orgnr>.key.pem`,
 * `certs/<orgnr>.cert.pem` in its data folder: the catalogue's `{"generated": "<orgnr>"}`), so the
 * certificate the registry and KRR hand out is the one whose key decrypts here. Only a credential that
 * exists is used: an organisation the catalogue gave no generated certificate is no provider.
 */
export interface ProviderKeySource {
  /** the provider's keys, or undefined when the registry made none for it */
  get(orgnr: string): Promise<ProviderKeys | undefined>
}

export function providerKeySource(registryDataDir: string, clock: Clock): ProviderKeySource {
  const credentials = createCredentialStore(registryDataDir, clock)
  return {
    async get(orgnr) {
      if (!/^[0-9]{9}$/.test(orgnr)) return undefined
      if (!existsSync(join(registryDataDir, 'keys', `${orgnr}.key.pem`))) return undefined
      // the subject is only used when the certificate file is missing; the registry's own for an organisation
      const credential = await credentials.get(orgnr, {
        commonName: orgnr,
        serialNumber: orgnr,
        country: 'NO',
      })
      return {
        keyPem: credential.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        certPem: credential.certificate.toString(),
      }
    },
  }
}

/**
 * An organisation's business certificate from the ServiceRegistry (`GET {url}/virksert/{orgnr}`, PEM):
 * the only certificate the stand-in accepts a business message signed with. Undefined when the
 * registry has none (404); a registry out of reach is a 503 for the caller to retry.
 */
export async function virksert(registryUrl: string, orgnr: string): Promise<string | undefined> {
  const { res, url } = await registryGet(registryUrl, `virksert/${orgnr}`)
  const text = await res.text()
  if (res.status === 200 && text.includes('BEGIN CERTIFICATE')) return text
  if (res.status === 404) return undefined
  throw new DpiProblem(502, 'registry-unavailable', `The ServiceRegistry answered ${res.status} for ${url}`)
}

/** `GET {registryUrl}/{path}`; a registry out of reach is a 503 for the caller to retry. */
export async function registryGet(
  registryUrl: string,
  path: string,
): Promise<{ res: Response; url: string }> {
  const url = `${registryUrl.replace(/\/+$/, '')}/${path}`
  try {
    return { res: await fetch(url, { signal: AbortSignal.timeout(10_000) }), url }
  } catch (cause) {
    throw new DpiProblem(
      503,
      'registry-unavailable',
      `Cannot reach the ServiceRegistry at ${url}: ${(cause as Error).message}`,
    )
  }
}
