#!/usr/bin/env node
import { pino } from 'pino'
import { COMMANDS, parseArgs } from './config/cli-args.js'
import { ConfigError, loadConfig } from './config/load.js'
import { DatasourceError } from './db/datasource.js'
import { startIntegrationPoint } from './main.js'

const HELP = `Usage: integrasjonspunkt <command> [options]

Commands:
  start                 run one integration point (reads integrasjonspunkt-local.properties
                        in the working directory, then environment variables such as
                        DIFI_MOVE_ORG_NUMBER and SERVER_PORT)

Options:
  --config FILE         read this properties file instead of ./integrasjonspunkt-local.properties
  --port N              listen on this port (above server.port)
  --help                show this help

Configuration keys: docs/configuration.md`

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseArgs>
  try {
    args = parseArgs(argv)
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
  if (args.help || !args.command) {
    process.stdout.write(`${HELP}\n`)
    return args.help ? 0 : 2
  }
  if (!(COMMANDS as readonly string[]).includes(args.command)) {
    process.stderr.write(`unknown command "${args.command}"\n\n${HELP}\n`)
    return 2
  }
  const cwd = process.cwd()
  const config = loadConfig({
    cwd,
    env: process.env,
    ...(args.configFile ? { configFile: args.configFile } : {}),
    ...(args.port !== undefined ? { overrides: { 'server.port': String(args.port) } } : {}),
  })
  const logger = pino({ name: 'integrasjonspunkt' })
  const ip = await startIntegrationPoint({ config, cwd, logger })
  const shutdown = (signal: string) => {
    logger.info(`${signal}: stopping`)
    ip.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'unclean stop')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  return -1
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error) => {
    // configuration problems are the operator's to fix: say what and where, without a stack trace
    if (error instanceof ConfigError || error instanceof DatasourceError) {
      process.stderr.write(`integrasjonspunkt cannot start: ${error.message}\n`)
    } else {
      process.stderr.write(`integrasjonspunkt cannot start: ${(error as Error)?.stack ?? String(error)}\n`)
    }
    process.exitCode = 1
  },
)
