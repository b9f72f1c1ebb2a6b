/**
 * Exit codes that scripts can trust, and the one-line error every failure becomes.
 */
import { CommanderError } from 'commander'
import { ApiError, NetworkError } from '../index.js'

export const EXIT = {
  ok: 0,
  /** a usage error, or a local problem (a file that cannot be read or written) */
  usage: 1,
  /** the integration point refused the request (4xx) */
  refused: 2,
  /** the integration point cannot be reached, or failed (5xx) */
  unreachable: 3,
  /** `--wait`/`--follow` ended in FEIL or LEVETID_UTLOPT */
  failedStatus: 4,
  /** `receive` rejected a message it must not write (reported to the integration point as FEIL) */
  rejected: 5,
  /** Ctrl-C or SIGTERM */
  interrupted: 130,
} as const

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    usage error, or a local file that cannot be read or written
  2    the integration point refused the request (4xx; its message and exception on stderr)
  3    the integration point cannot be reached, or failed (5xx)
  4    --wait/--follow ended in FEIL or LEVETID_UTLOPT
  5    receive rejected a message whose package must not be written (unsafe names, unreadable);
       each is reported to the integration point (FEIL with the reason) and not offered again
  130  interrupted (Ctrl-C, SIGTERM)`

/** A mistake in the command line, found after commander parsed it. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A failure found by the command line itself, with the exit code it stands for. */
export class CliError extends Error {
  override name = 'CliError'
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

/** The command was stopped by a signal. */
export class Interrupted extends Error {
  override name = 'Interrupted'
  constructor() {
    super('interrupted')
  }
}

export interface ErrorReport {
  exitCode: number
  /** the one line for stderr */
  line: string
  /** the object written on stdout under `--json` */
  json: Record<string, unknown>
}

function apiReport(err: ApiError): ErrorReport {
  const refused = err.status >= 400 && err.status < 500
  const name = err.exceptionName ? ` (${err.exceptionName})` : ''
  return {
    exitCode: refused ? EXIT.refused : EXIT.unreachable,
    line: `error: the integration point answered ${err.status}: ${err.message}${name}`,
    json: {
      error: {
        status: err.status,
        error: err.error,
        exception: err.exception,
        exceptionName: err.exceptionName,
        message: err.message,
        ...(err.description !== undefined && { description: err.description }),
        path: err.path,
      },
    },
  }
}

/** The exit code, stderr line and JSON of whatever a command threw. */
export function errorReport(err: unknown): ErrorReport {
  if (err instanceof ApiError) return apiReport(err)
  if (err instanceof NetworkError) {
    // its message names the URL and what Node reported (ECONNREFUSED, ...)
    return {
      exitCode: EXIT.unreachable,
      line: `error: ${err.message}`,
      json: { error: { network: true, code: err.code, url: err.url, message: err.message } },
    }
  }
  if (err instanceof Interrupted) {
    return { exitCode: EXIT.interrupted, line: 'interrupted', json: { error: { interrupted: true } } }
  }
  if (err instanceof CliError) {
    return {
      exitCode: err.exitCode,
      line: `error: ${err.message}`,
      json: { error: { message: err.message } },
    }
  }
  if (err instanceof CommanderError) {
    return { exitCode: EXIT.usage, line: err.message, json: { error: { usage: true, message: err.message } } }
  }
  const message = err instanceof Error ? err.message : String(err)
  return {
    exitCode: EXIT.usage,
    line: `error: ${message}`,
    json: { error: { usage: err instanceof UsageError, message } },
  }
}
