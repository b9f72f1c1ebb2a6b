// The check of a received ASiC-E that DPO and DPE share (issue 13; the reference checks nothing): the
// container, its signature, and that the signer is the SBD's sender by the certificate the
// ServiceRegistry (Virksert) holds for it. Whether the SBD's sender is itself to be believed is the
// channel's to say (DPO: the broker's word; DPE: nothing but this signature).

import type { PayloadStore } from '../files/payload-store.js'
import {
  ArrivalScan,
  type AsicVerdict,
  type ScannedCms,
  SMALL_CMS_BYTES,
  verifyEncryptedAsic,
} from '../packaging/asic-verify.js'
import type { BusinessKeys } from '../packaging/keys.js'
import type { ServiceRegistry } from '../registry/client.js'
import { NotFoundInServiceRegistryError } from '../registry/errors.js'
import { getSender } from '../sbd/accessors.js'
import { primaryIdentifier } from '../sbd/identifiers.js'
import type { StandardBusinessDocument } from '../sbd/types.js'

export type AsicVerifier = ((
  sbd: StandardBusinessDocument,
  asic: { tempPath: string; size: number; scanned?: ScannedCms | null },
) => Promise<AsicVerdict>) & {
  /**
   * a decryption and scan of a CMS as a transfer of `transferBytes` downloads, with the same limits, for
   * `asic.scanned`; null for a small one, whose CMS is checked in memory
   */
  arrival?: (transferBytes: number) => ArrivalScan | null
}

/** far more documents than a message has; each costs a little CPU only, nothing is kept */
const MAX_ENTRIES = 10_000

export function createAsicVerifier(deps: {
  registry: ServiceRegistry
  keys: BusinessKeys
  payloads: PayloadStore
  /** the most the documents may inflate to, together */
  maxBytes: number
  /** difi.move.nextmove.maxCompressionRatio */
  maxRatio: number
}): AsicVerifier {
  const limits = {
    keys: deps.keys,
    maxBytes: deps.maxBytes,
    maxRatio: deps.maxRatio,
    maxEntries: MAX_ENTRIES,
  }
  const verify = (sbd: StandardBusinessDocument, asic: Parameters<AsicVerifier>[1]) => {
    const sender = getSender(sbd)
    // the key that signs is the integration point's own: the organisation before any on-behalf-of part
    const primary = sender?.kind === 'iso6523' ? primaryIdentifier(sender) : ''
    const org = /^\d{9}$/.test(primary) ? primary : null
    return verifyEncryptedAsic({
      ...limits,
      cmsPath: asic.tempPath,
      cmsSize: asic.size,
      scanned: asic.scanned,
      tempDir: deps.payloads.tempDir,
      expectedSigner: () => (org ? senderCertificate(deps.registry, org) : Promise.resolve(null)),
      signerName: org ? `0192:${org}` : String(sender?.value ?? 'a sender without an organisation number'),
    })
  }
  return Object.assign(verify, {
    // a transfer is larger than its CMS
    arrival: (transferBytes: number) => (transferBytes > SMALL_CMS_BYTES ? new ArrivalScan(limits) : null),
  })
}

/** Not found is an answer (the sender has no certificate); anything else may pass, so it throws. */
async function senderCertificate(registry: ServiceRegistry, org: string): Promise<string | null> {
  try {
    return await registry.certificate(org)
  } catch (error) {
    if (error instanceof NotFoundInServiceRegistryError) return null
    throw error
  }
}
