import { Writable } from 'node:stream'
import { type Logger, pino } from 'pino'
import type { Config } from '../config/types.js'
import { CORRELATION_ID } from '../util/log.js'

/**
 * The integration point's log: pino JSON lines, or readable text lines (`logging.format=text`). Lines
 * about a message carry its messageId under CORRELATION_ID (src/util/log.ts: `forMessage`).
 */

/**
 * Values that must never reach a log, whatever object a caller hands over: the API user's password,
 * webhook secrets, tokens, and the Authorization header (Fastify's request serializer leaves headers out;
 * this is the second line of defence).
 */
const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
]

export function createLogger(
  settings: Config['logging'],
  out: NodeJS.WritableStream = process.stdout,
): Logger {
  const options = {
    name: 'integrasjonspunkt',
    level: settings.level,
    redact: { paths: REDACT, censor: '[redacted]' },
  }
  // to standard output, through pino's asynchronous destination: a pipe or file written line by line
  // blocks the event loop for every line (two per request), where this writes what accumulated while
  // the last write ran in one go, off the main thread; pino flushes it when the process exits
  const target = out === process.stdout ? pino.destination({ dest: 1, sync: false }) : out
  return settings.format === 'text' ? pino(options, textStream(target)) : pino(options, target)
}

/** Turns pino's JSON lines into text lines (pino-pretty is not a dependency; this is all we need). */
export function textStream(out: { write(text: string): unknown }): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue
        let text: string
        try {
          text = formatLine(JSON.parse(line))
        } catch {
          text = line
        }
        out.write(`${text}\n`)
      }
      done()
    },
  })
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', CORRELATION_ID, 'err'])

/** `2026-03-10T09:00:00.000Z INFO  [messageId] message key=value ...`, then an error's stack, indented. */
export function formatLine(entry: Record<string, unknown>): string {
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString() : ''
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).padEnd(5)
  const id = entry[CORRELATION_ID] ? ` [${entry[CORRELATION_ID]}]` : ''
  const fields = Object.entries(entry)
    .filter(([k]) => !OWN_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldText(k, v)}`)
  const head = [`${time} ${level}${id}`, entry.msg ?? '', ...fields].filter((s) => s !== '').join(' ')
  const err = entry.err as { type?: string; message?: string; stack?: string } | undefined
  if (!err) return head
  const stack = err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`
  return `${head}\n${stack
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}`
}

function fieldText(key: string, value: unknown): string {
  // Fastify's request and response objects, shortened to what a reader scans for
  if (key === 'req' && value && typeof value === 'object') {
    const r = value as { method?: string; url?: string }
    return `${r.method} ${r.url}`
  }
  if (key === 'res' && value && typeof value === 'object')
    return String((value as { statusCode?: number }).statusCode)
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value
  return JSON.stringify(value)
}
