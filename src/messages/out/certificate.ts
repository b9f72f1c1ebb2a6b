import { X509Certificate } from 'node:crypto'
import { ApiError } from '../../errors/api-error.js'
import type { BusinessKeys } from '../../packaging/keys.js'

const expiries = new WeakMap<BusinessKeys, { validTo: Date; subject: string }>()

/**
 * the first check of send and #3 of create (src/sbd/rules.ts): the own business certificate must still be valid, else nothing can be signed
 * for or decrypted by the receiver's answer. The start refuses an expired one; this catches one that
 * expires while the integration point runs. Without keys (no channel needs them) there is nothing to check.
 */
export function checkOwnCertificate(keys: BusinessKeys | null | undefined, now: Date): ApiError | undefined {
  if (!keys) return undefined
  let cert = expiries.get(keys)
  if (!cert) {
    const x509 = new X509Certificate(keys.certPem)
    cert = { validTo: new Date(x509.validTo), subject: x509.subject.replace(/\n/g, ', ') }
    expiries.set(keys, cert)
  }
  if (cert.validTo.getTime() >= now.getTime()) return undefined
  return new ApiError('InvalidCertificate', [
    `The business certificate ${cert.subject} expired on ${cert.validTo.toISOString()}: renew it (difi.move.org.keystore.*) and restart`,
  ])
}
