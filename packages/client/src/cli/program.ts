/**
 * `integrasjonspunkt-client`: the command line over the client library. `run` parses the arguments,
 * runs one command and answers its exit code; it never calls process.exit, so tests can run it too.
 */
import { createRequire } from 'node:module'
import { Command, CommanderError, Option } from 'commander'
import { DEFAULT_URL } from '../index.js'
import { registerCapabilities } from './commands/capabilities.js'
import { registerListen } from './commands/listen.js'
import { registerReceive } from './commands/receive.js'
import { registerSend } from './commands/send.js'
import type { Runner } from './commands/shared.js'
import { integer } from './commands/shared.js'
import { registerStatus } from './commands/status.js'
import { registerWatch } from './commands/watch.js'
import { CommandContext, type GlobalOptions, type Io } from './context.js'
import { EXIT, EXIT_CODES_HELP, errorReport } from './exit.js'

// the same relative path from src/cli and from dist/cli
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

const EXAMPLES = `
Quick start against the sandbox (npm start in this repository; 910075918 on :9093, 910077473 on :9094):
  $ integrasjonspunkt-client capabilities 910077473
  $ integrasjonspunkt-client send --to 910077473 --title "Vedtak om tilskudd" vedtak.pdf vedlegg.pdf
  $ integrasjonspunkt-client status <messageId> --follow
  $ integrasjonspunkt-client --url http://localhost:9094 receive --out inbox --once
${EXIT_CODES_HELP}`

function globalOptions(program: Command): void {
  program
    .addOption(
      new Option('--url <url>', 'the integration point').env('INTEGRASJONSPUNKT_URL').default(DEFAULT_URL),
    )
    .addOption(new Option('--user <name>', 'user for HTTP basic auth').env('INTEGRASJONSPUNKT_USER'))
    .addOption(new Option('--password <password>', 'its password').env('INTEGRASJONSPUNKT_PASSWORD'))
    .option('--ca <file>', 'trust this CA certificate (PEM) for https')
    .option('--insecure', 'do not check the https certificate (testing only)')
    .addOption(
      new Option('--retries <n>', 'retries of a request after a network error or 502/503/504')
        .argParser(integer('--retries'))
        .default(3),
    )
    .option('--json', 'machine-readable output on stdout: one JSON document, or JSON lines when it streams')
}

/** Wraps each command's work into a commander action: its context from the options, its exit code. */
function runner(io: Io, setExitCode: (code: number) => void): Runner {
  return <A extends unknown[]>(work: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      // commander passes the arguments, the options, then the command
      const command = args.at(-1) as Command
      const ctx = new CommandContext(io, command.optsWithGlobals<GlobalOptions>(), version)
      try {
        setExitCode(await work(ctx, ...(args.slice(0, -1) as A)))
      } finally {
        await ctx.close()
      }
    }
}

/** The program, its output and errors going to `io`, each command's exit code to `setExitCode`. */
export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command('integrasjonspunkt-client')
  program
    .description("Send, receive and follow eFormidling messages through an integration point's NextMove API.")
    .version(version)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(add --help for usage and examples)')
  globalOptions(program)
  program.addHelpText('after', EXAMPLES)
  const run = runner(io, setExitCode)
  registerCapabilities(program, run)
  registerSend(program, run)
  registerReceive(program, run)
  registerStatus(program, run)
  registerWatch(program, run)
  registerListen(program, run)
  for (const command of program.commands) command.addHelpText('after', EXIT_CODES_HELP)
  return program
}

/** Runs the command line `argv` (as process.argv: node, script, arguments...) and answers its exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok
  const program = buildProgram(io, (code) => {
    exitCode = code
  })
  try {
    await program.parseAsync([...argv])
    return exitCode
  } catch (err) {
    // help and version end parsing by throwing, with exit code 0
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT.ok
    const report = errorReport(err)
    // commander has written its own usage error to stderr already
    if (!(err instanceof CommanderError)) io.stderr.write(`${report.line}\n`)
    if (argv.slice(2).includes('--json')) io.stdout.write(`${JSON.stringify(report.json)}\n`)
    return report.exitCode
  }
}
