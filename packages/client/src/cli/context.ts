/**
 * What every command shares: the global options, the client they describe, and where output goes
 * (stdout for results, human or JSON; stderr for everything else).
 */
import { readFileSync } from 'node:fs'
import { type ClientOptions, IntegrasjonspunktClient } from '../index.js'
import { UsageError } from './exit.js'

export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  /** registers a listener for Ctrl-C/SIGTERM and returns its removal; none where signals are not ours */
  onInterrupt?: (listener: () => void) => () => void
}

export interface GlobalOptions {
  url: string
  user?: string
  password?: string
  insecure?: boolean
  ca?: string
  json?: boolean
  retries?: number
}

export function clientOptions(globals: GlobalOptions, version: string): ClientOptions {
  if ((globals.user === undefined) !== (globals.password === undefined)) {
    throw new UsageError(
      'give both --user and --password (or INTEGRASJONSPUNKT_USER and _PASSWORD), or neither',
    )
  }
  const options: ClientOptions = { url: globals.url, userAgent: `integrasjonspunkt-client-cli/${version}` }
  if (globals.user !== undefined) {
    options.username = globals.user
    options.password = globals.password
  }
  if (globals.retries !== undefined) options.retries = globals.retries
  if (globals.insecure || globals.ca !== undefined) {
    options.tls = {
      ...(globals.ca !== undefined && { ca: readCa(globals.ca) }),
      ...(globals.insecure && { rejectUnauthorized: false }),
    }
  }
  return options
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new UsageError(`cannot read --ca ${path}: ${(err as Error).message}`)
  }
}

export class CommandContext {
  readonly json: boolean
  private made: IntegrasjonspunktClient | undefined

  constructor(
    readonly io: Io,
    readonly globals: GlobalOptions,
    private readonly version: string,
  ) {
    this.json = globals.json === true
  }

  /** The client, made on first use so that usage errors come before any connection. */
  get client(): IntegrasjonspunktClient {
    this.made ??= new IntegrasjonspunktClient(clientOptions(this.globals, this.version))
    return this.made
  }

  /** One result: the human text, or under --json the value as one line of JSON. */
  result(human: string | (() => string), json: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(json)}\n`)
    else this.io.stdout.write(`${typeof human === 'function' ? human() : human}\n`)
  }

  /** A remark for the person at the terminal; never on stdout, so --json output stays clean. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`)
  }

  /** A signal that Ctrl-C/SIGTERM aborts while the command runs; `dispose` when done. */
  interruption(): { signal: AbortSignal; dispose(): void } {
    const controller = new AbortController()
    const remove = this.io.onInterrupt?.(() => controller.abort()) ?? (() => {})
    return { signal: controller.signal, dispose: remove }
  }

  async close(): Promise<void> {
    await this.made?.close()
  }
}
