import type { Clock } from '../../util/time.js'
import { createCredentialStore } from '../service-registry/credentials.js'
import { SvarUtError } from './errors.js'
import type { Mottakersystem } from './settings.js'

/** SvarUt's own key pair: senders encrypt documents to its certificate, the stand-in decrypts them. */
export interface SvarUtKeys {
  keyPem: string
  certPem: string
}

/**
 * The key pair given, or the one generated into `<dataDir>/keys/svarut.key.pem` and
 * `<dataDir>/certs/svarut.cert.pem` at first start and reused after (the ServiceRegistry's generated
 * credentials, same files and format, so its catalogue can name this certificate as a file).
 */
export async function svarUtKeys(dataDir: string, clock: Clock, given?: SvarUtKeys): Promise<SvarUtKeys> {
  if (given) return given
  const credential = await createCredentialStore(dataDir, clock).get('svarut', {
    commonName: 'KS SvarUt (stand-in)',
    country: 'NO',
  })
  return {
    keyPem: credential.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: credential.certificate.toString(),
  }
}

/**
 * The certificate a mottakersystem's downloads are encrypted to: its configured PEM, else the
 * organisation's business certificate from the ServiceRegistry (`GET {url}/virksert/{orgnr}`, as the
 * receiving integration point decrypts with its own key by default).
 */
export async function receiverCertificate(
  system: Mottakersystem,
  serviceRegistryUrl?: string,
): Promise<string> {
  if (system.certificatePem) return system.certificatePem
  if (!serviceRegistryUrl)
    throw new SvarUtError(
      500,
      `Mottakersystem ${system.username} has no certificate: configure certificatePem or the stand-in's serviceRegistryUrl`,
      'MANGLER_SERTIFIKAT',
    )
  const url = `${serviceRegistryUrl.replace(/\/+$/, '')}/virksert/${system.orgnr}`
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  } catch (cause) {
    throw new SvarUtError(
      503,
      `Cannot reach the ServiceRegistry at ${url}: ${(cause as Error).message}`,
      null,
    )
  }
  const text = await res.text()
  if (res.status !== 200 || !text.includes('BEGIN CERTIFICATE'))
    throw new SvarUtError(
      500,
      `The ServiceRegistry has no certificate for ${system.orgnr} (${url} answered ${res.status})`,
      'MANGLER_SERTIFIKAT',
    )
  return text
}
