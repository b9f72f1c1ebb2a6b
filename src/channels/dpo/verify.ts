// What the DPO receiver checks of an ASiC-E before the intake queues it (issue 13; the reference does
// not check it at all): the container, its signature, and that the signer is the sender by the
// certificate the ServiceRegistry (Virksert) holds for it (asic-verifier.ts). The SBD's sender is only
// as good as the broker's word for it; the intake refuses an SBD whose sender the broker did not
// authenticate.

import type { Config } from '../../config/types.js'
import type { PayloadStore } from '../../files/payload-store.js'
import type { BusinessKeys } from '../../packaging/keys.js'
import type { ServiceRegistry } from '../../registry/client.js'
import { type AsicVerifier, createAsicVerifier } from '../asic-verifier.js'

export type DpoVerifier = AsicVerifier

export function createDpoVerifier(deps: {
  config: Config
  registry: ServiceRegistry
  keys: BusinessKeys
  payloads: PayloadStore
}): DpoVerifier {
  const { config } = deps
  return createAsicVerifier({
    ...deps,
    // as for the CMS itself (receiver.ts): room for a sender with a larger limit than ours
    maxBytes: config.uploadSizeLimit.DPO * 2,
    maxRatio: config.nextmove.maxCompressionRatio,
  })
}
