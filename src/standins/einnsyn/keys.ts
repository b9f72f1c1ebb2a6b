import type { Clock } from '../../util/time.js'
import { createCredentialStore } from '../service-registry/credentials.js'
import { EINNSYN_ORGNR } from './messages.js'

/** eInnsyn's business key pair: it signs the ASiCs it sends, and publiseringer are encrypted to it. */
export interface EinnsynKeys {
  keyPem: string
  certPem: string
}

/** A failure the caller answers for: `status` is the HTTP status the sandbox API gives. */
export class EinnsynError extends Error {
  override name = 'EinnsynError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The ServiceRegistry's generated credential for 910076787 (`keys/910076787.key.pem` and
 * `certs/910076787.cert.pem` under its data folder), so the certificate the registry hands out for
 * eInnsyn is the one whose key decrypts here. Made with the subject the registry gives an organisation
 * when the registry has not made it yet (the name as the sandbox catalogue has it).
 */
export async function einnsynKeys(registryDataDir: string, clock: Clock): Promise<EinnsynKeys> {
  const credential = await createCredentialStore(registryDataDir, clock).get(EINNSYN_ORGNR, {
    commonName: 'TEST - EINNSYN',
    organization: 'TEST - EINNSYN',
    serialNumber: EINNSYN_ORGNR,
    country: 'NO',
  })
  return {
    keyPem: credential.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: credential.certificate.toString(),
  }
}

/**
 * An organisation's business certificate from the ServiceRegistry (`GET {url}/virksert/{orgnr}`, PEM),
 * which an innsynskrav is encrypted to and a publisering's signature must be made with.
 */
export async function virksert(registryUrl: string, orgnr: string): Promise<string> {
  const url = `${registryUrl.replace(/\/+$/, '')}/virksert/${orgnr}`
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  } catch (cause) {
    throw new EinnsynError(503, `Cannot reach the ServiceRegistry at ${url}: ${(cause as Error).message}`)
  }
  const text = await res.text()
  if (res.status === 200 && text.includes('BEGIN CERTIFICATE')) return text
  if (res.status === 404)
    throw new EinnsynError(
      422,
      `The ServiceRegistry has no certificate for ${orgnr}: add the organisation with a certificate to its catalogue`,
    )
  throw new EinnsynError(502, `The ServiceRegistry answered ${res.status} for ${url}`)
}
