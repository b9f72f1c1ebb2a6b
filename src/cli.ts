#!/usr/bin/env node
import { join } from 'node:path'
import { pino } from 'pino'
import { type CliArgs, COMMANDS, parseArgs } from './config/cli-args.js'
import { ConfigError, loadConfig } from './config/load.js'
import { DatasourceError } from './db/datasource.js'
import { StartupError, startIntegrationPoint } from './main.js'
import { sandboxBanner, startSandbox } from './sandbox.js'
import { startAltinnBroker } from './standins/altinn-broker/server.js'
import { CatalogueError } from './standins/service-registry/catalog-load.js'
import { startServiceRegistry } from './standins/service-registry/server.js'

const HELP = `Usage: integrasjonspunkt <command> [options]

Commands:
  start                 run one integration point (reads integrasjonspunkt-local.properties
                        in the working directory, then environment variables such as
                        DIFI_MOVE_ORG_NUMBER and SERVER_PORT)
  sandbox               run everything on this machine: the ServiceRegistry stand-in and two
                        integration points (910075918 on 9093, 910077473 on 9094), data in
                        ./sandbox-data, on 127.0.0.1 only (this is what npm start runs)
  service-registry      run the ServiceRegistry stand-in (port 9099) from a catalogue file
  altinn-broker         run the Altinn 3 Broker stand-in (port 9098), data in ./sandbox-data

Options:
  --config FILE         start: read this properties file instead of ./integrasjonspunkt-local.properties
  --port N              listen on this port (start, service-registry, altinn-broker)
  --catalog FILE        service-registry: the catalogue to serve (default: the sandbox catalogue)
  --help                show this help

Configuration keys: docs/configuration.md. Stand-ins: docs/service-registry-standin.md,
docs/altinn-broker-standin.md`

/** Something that runs until a signal stops it. */
interface Running {
  stop(): Promise<void>
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs
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
  const logger = pino({ name: 'integrasjonspunkt' })
  const running = await run(args, logger)
  const shutdown = (signal: string) => {
    logger.info(`${signal}: stopping`)
    running.stop().then(
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

async function run(args: CliArgs, logger: pino.Logger): Promise<Running> {
  const cwd = process.cwd()
  switch (args.command) {
    case 'sandbox': {
      const sandbox = await startSandbox({ cwd, logger: pino({ name: 'sandbox', level: 'warn' }) })
      process.stdout.write(sandboxBanner(sandbox))
      return sandbox
    }
    case 'service-registry': {
      const registry = await startServiceRegistry({
        port: args.port ?? 9099,
        host: '127.0.0.1',
        ...(args.catalog ? { catalogPath: args.catalog } : {}),
        dataDir: join(cwd, 'sandbox-data', 'service-registry'),
        logger,
      })
      return { stop: () => registry.close() }
    }
    case 'altinn-broker': {
      const broker = await startAltinnBroker({
        port: args.port ?? 9098,
        host: '127.0.0.1',
        dataDir: join(cwd, 'sandbox-data', 'altinn-broker'),
        logger,
      })
      return { stop: () => broker.close() }
    }
    default: {
      const config = loadConfig({
        cwd,
        env: process.env,
        ...(args.configFile ? { configFile: args.configFile } : {}),
        ...(args.port !== undefined ? { overrides: { 'server.port': String(args.port) } } : {}),
      })
      return startIntegrationPoint({ config, cwd, logger })
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error) => {
    // configuration problems are the operator's to fix: say what and where, without a stack trace
    if (
      error instanceof ConfigError ||
      error instanceof DatasourceError ||
      error instanceof CatalogueError ||
      error instanceof StartupError
    ) {
      process.stderr.write(`integrasjonspunkt cannot start: ${error.message}\n`)
    } else {
      process.stderr.write(`integrasjonspunkt cannot start: ${(error as Error)?.stack ?? String(error)}\n`)
    }
    process.exitCode = 1
  },
)
