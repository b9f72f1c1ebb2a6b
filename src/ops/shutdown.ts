import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { endsWithin } from '../util/async.js'

/**
 * Graceful shutdown (issue 6). On SIGTERM or SIGINT the integration point answers 503 to new requests,
 * lets running work end within a grace period (`difi.move.shutdown.grace-period-ms`), abandons what is
 * still running then, releases its job leases, closes the database and exits 0.
 *
 * Abandoning is safe because nothing is acknowledged before it is committed: a send cut off mid-upload
 * is a PENDING job whose lease was released, so the next start runs it at once and it finds its committed
 * broker transfer (no second transfer); a download cut off was never confirmed, so the broker lists it
 * again; a request cut off never got its 200. Waiting for a 1 GB upload instead would hold the stop for
 * minutes, past any orchestrator's patience (Kubernetes kills after 30 s, systemd after 90 s).
 */

/**
 * Closes the HTTP server: new connections are refused and requests on open ones get 503 (the app is
 * draining); requests already running get `graceMs` to finish, then their connections are cut.
 */
export async function closeHttp(app: FastifyInstance, graceMs: number, logger: Logger): Promise<void> {
  const closing = app.close()
  if (await endsWithin(closing, graceMs)) return
  logger.warn({ graceMs }, 'requests still running at shutdown are cut off')
  app.server.closeAllConnections()
  await closing
}

export interface Stoppable {
  stop(): Promise<void>
}

/** What a command started: what to stop, where to log, and how long the stop may take at most. */
export interface Started {
  running: Stoppable
  logger: Logger
  deadlineMs: number
}

/**
 * SIGTERM and SIGINT stop what `started` gives and exit 0 (1 when the stop fails or takes longer than its
 * deadline); a second signal exits at once, for an operator who does not want to wait. Installed before
 * the start, so a signal that comes while it starts (or the moment it says it is ready) stops it once it
 * has started, rather than killing it half way; when the start fails, its error is reported elsewhere.
 */
export function stopOnSignals(
  started: Promise<Started>,
  fallback: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let stopping = false
  let logger = fallback
  started.then(
    (s) => {
      logger = s.logger
    },
    () => {},
  )
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`)
      return exit(signal === 'SIGINT' ? 130 : 143)
    }
    stopping = true
    started.then(
      (s) => stopNow(s, signal, exit),
      () => {},
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

function stopNow(
  { running, logger, deadlineMs }: Started,
  signal: string,
  exit: (code: number) => void,
): void {
  const started = Date.now()
  logger.info(`${signal}: stopping`)
  const deadline = setTimeout(() => {
    logger.error({ deadlineMs }, 'the stop takes too long: exiting')
    exit(1)
  }, deadlineMs)
  deadline.unref()
  running.stop().then(
    () => {
      clearTimeout(deadline)
      logger.info({ stopMs: Date.now() - started, exitCode: 0 }, 'stopped')
      exit(0)
    },
    (err) => {
      clearTimeout(deadline)
      logger.error({ err, exitCode: 1 }, 'unclean stop')
      exit(1)
    },
  )
}
