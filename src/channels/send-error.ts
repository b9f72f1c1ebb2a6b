// A channel's own reason a send cannot go on, with whether another try may help: the sender turns it into
// a `retry` or a `failed` outcome (ports.ts).

import { missingFiles, type PayloadStore } from '../files/payload-store.js'

export class ChannelSendError extends Error {
  override name = 'ChannelSendError'

  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/**
 * Refuses a send whose stored file is missing, naming the first in the files' order. Retried, not failed:
 * the file may be back after a storage hiccup or a restore. `missing` says how (DPO and DPE add the errno).
 */
export async function requireStoredFiles(
  payloads: Pick<PayloadStore, 'missing'>,
  files: readonly { storage_key: string; filename: string }[],
  missing = 'is missing',
): Promise<void> {
  const [gone] = await missingFiles(payloads, files)
  if (gone)
    throw new ChannelSendError(
      `its stored file ${gone.filename} ${missing}; tried again until it is back`,
      true,
    )
}
