import type { Logger } from 'pino'

/**
 * Every log line about a message carries `correlation_id` = its messageId, as the reference's log does
 * since 2.2.0, so one grep follows a message through intake, sending, receipts and webhooks. Kept apart
 * from the logger's creation (src/ops/logging.ts) because jobs, channels and services name messages in
 * their lines, and they should not depend on the operator's side of the code.
 */
export const CORRELATION_ID = 'correlation_id'

/** A logger whose every line names this message; the logger itself when there is no messageId. */
export function forMessage(logger: Logger, messageId: string | null | undefined): Logger {
  return messageId ? logger.child({ [CORRELATION_ID]: messageId }) : logger
}
