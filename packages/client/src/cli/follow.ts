/**
 * Following a message's statuses until a final one, for `send --wait` and `status --follow`.
 */
import { FINAL_STATUSES, type MessageStatus } from '../index.js'
import type { CommandContext } from './context.js'
import { EXIT } from './exit.js'
import { statusLine } from './format.js'

/** The final statuses that mean the message did not arrive: the command then exits with 4. */
export const FAILED_STATUSES: readonly string[] = ['FEIL', 'LEVETID_UTLOPT']

export function exitCodeForFinal(status: MessageStatus | undefined): number {
  return status !== undefined && FAILED_STATUSES.includes(status.status) ? EXIT.failedStatus : EXIT.ok
}

export interface FollowCommandOptions {
  /** ms between polls */
  interval?: number
  /** statuses to stop at besides the final ones, e.g. LEVERT */
  until?: string[]
}

/** `--until LEVERT,MOTTATT`: upper-cased, comma-separated; commander's parser. */
export function parseUntil(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '')
}

/**
 * Prints each status of the message once, as it comes (a line, or a JSON line), until a final one;
 * the exit code says how it ended.
 */
export async function followStatuses(
  ctx: CommandContext,
  messageId: string,
  opts: FollowCommandOptions & { signal: AbortSignal },
): Promise<number> {
  let last: MessageStatus | undefined
  const follow = ctx.client.followStatuses(messageId, {
    signal: opts.signal,
    ...(opts.interval !== undefined && { intervalMs: opts.interval }),
    // a status asked for ends it, and so does any status after which nothing more comes
    ...(opts.until !== undefined && { until: [...new Set([...opts.until, ...FINAL_STATUSES])] }),
  })
  for await (const status of follow) {
    last = status
    ctx.result(() => statusLine(status), status)
  }
  if (opts.signal.aborted) return EXIT.interrupted
  return exitCodeForFinal(last)
}
