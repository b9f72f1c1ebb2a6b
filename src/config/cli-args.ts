import { parseArgs as parseNodeArgs } from 'node:util'
import { toPort } from './fields.js'

/** The commands the `integrasjonspunkt` binary knows (cli.ts dispatches them); later work adds more. */
export const COMMANDS = [
  'start',
  'sandbox',
  'service-registry',
  'altinn-broker',
  'svarut',
  'service-bus',
  'dpi',
] as const

export const USAGE =
  'usage: integrasjonspunkt <start|sandbox|service-registry|altinn-broker|svarut|service-bus|dpi> [--config FILE] [--port N] [--port-base N] [--catalog FILE] [--help]'

export interface CliArgs {
  /** the first positional argument; undefined when none is given */
  command: string | undefined
  /** --config FILE: the properties file to read instead of ./integrasjonspunkt-local.properties */
  configFile?: string
  /** --port N: the port to listen on (above server.port) */
  port?: number
  /** --port-base N: the sandbox's first port; every other port of the sandbox follows it */
  portBase?: number
  /** --catalog FILE: the stand-in ServiceRegistry's catalogue */
  catalog?: string
  help: boolean
  /** positional arguments after the command */
  rest: string[]
}

/** A command line that cannot be understood; the message ends with the usage line. */
export class UsageError extends Error {
  constructor(reason: string) {
    super(`${reason}\n${USAGE}`)
    this.name = 'UsageError'
  }
}

/** Parses the arguments after `node cli.js` (i.e. process.argv.slice(2)). Unknown flags are errors. */
export function parseArgs(argv: string[]): CliArgs {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const { values, positionals } = parsed
  const result: CliArgs = { command: positionals[0], help: values.help ?? false, rest: positionals.slice(1) }
  if (values.config !== undefined) {
    if (!values.config) throw new UsageError('--config needs a file name')
    result.configFile = values.config
  }
  if (values.catalog !== undefined) {
    if (!values.catalog) throw new UsageError('--catalog needs a file name')
    result.catalog = values.catalog
  }
  if (values.port !== undefined) {
    const port = toPort('--port', values.port)
    if (!port.ok) throw new UsageError(port.message)
    result.port = port.value
  }
  if (values['port-base'] !== undefined) {
    const port = toPort('--port-base', values['port-base'])
    if (!port.ok) throw new UsageError(port.message)
    // the sandbox takes seven ports from the base on
    if (port.value < 1 || port.value > 65_535 - 6) throw new UsageError('--port-base must be from 1 to 65529')
    result.portBase = port.value
  }
  return result
}

function parse(argv: string[]) {
  return parseNodeArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      'port-base': { type: 'string' },
      catalog: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
