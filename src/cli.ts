#!/usr/bin/env node
import { join } from 'node:path'
import { pino } from 'pino'
import { type CliArgs, COMMANDS, parseArgs } from './config/cli-args.js'
import { ConfigError, loadConfig } from './config/load.js'
import { DatasourceError } from './db/datasource.js'
import { createLogger } from './ops/logging.js'
import { tuneRuntime } from './ops/runtime.js'
import { stopOnSignals } from './ops/shutdown.js'
import { takenPort } from './util/errors.js'

// Each command imports what it runs when it runs (below): `start` need not load the sandbox and the
// stand-ins, and module loading is most of the time to ready (bench/README.md, "Start-up time").

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
  svarut                run the KS SvarUt and SvarInn stand-in (port 9097), data in
                        ./sandbox-data/svarut, receivers' certificates from the ServiceRegistry
                        stand-in on 127.0.0.1:9099
  service-bus           run the Azure Service Bus stand-in with eInnsyn for DPE (port 9095), data in
                        ./sandbox-data/service-bus
  dpi                   run the DPI access point stand-in with its mailboxes and printer (port
                        9096), data in ./sandbox-data/dpi, providers' keys and business
                        certificates from the ServiceRegistry stand-in on 127.0.0.1:9099

Options:
  --config FILE         start: read this properties file instead of ./integrasjonspunkt-local.properties
  --port N              listen on this port (start, service-registry, altinn-broker, svarut,
                        service-bus, dpi)
  --port-base N         sandbox: move all its ports together: the integration points on N and
                        N+1, the stand-ins on N+2 to N+6 (default 9093: 9093 to 9099), e.g.
                        npm start -- --port-base 19093
  --catalog FILE        service-registry: the catalogue to serve (default: the sandbox catalogue)
  --help                show this help

Configuration keys: docs/configuration.md. Stand-ins: docs/service-registry-standin.md,
docs/altinn-broker-standin.md, docs/svarut-standin.md, docs/service-bus-standin.md,
docs/dpi-standin.md`

/** Something that runs until a signal stops it. */
interface Running {
  stop(): Promise<void>
}

/** What a command started, with the logger it logs to and how long its stop may take at most. */
interface Started {
  running: Running
  logger?: pino.Logger
  stopDeadlineMs?: number
}

async function main(argv: string[]): Promise<number> {
  tuneRuntime()
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
  const fallback = pino({ name: 'integrasjonspunkt' })
  const starting = run(args, fallback)
  // before the start completes, so a signal while it starts is not lost (src/ops/shutdown.ts)
  stopOnSignals(
    starting.then(({ running, logger = fallback, stopDeadlineMs = 30_000 }) => ({
      running,
      logger,
      deadlineMs: stopDeadlineMs,
    })),
    fallback,
  )
  await starting
  return -1
}

async function run(args: CliArgs, logger: pino.Logger): Promise<Started> {
  const cwd = process.cwd()
  switch (args.command) {
    case 'sandbox': {
      const { sandboxBanner, startSandbox } = await import('./sandbox.js')
      const sandbox = await startSandbox({
        cwd,
        logger: pino({ name: 'sandbox', level: 'warn' }),
        ...(args.portBase !== undefined ? { portBase: args.portBase } : {}),
      })
      process.stdout.write(sandboxBanner(sandbox))
      return { running: sandbox }
    }
    case 'service-registry': {
      const { startServiceRegistry } = await import('./standins/service-registry/server.js')
      const registry = await startServiceRegistry({
        port: args.port ?? 9099,
        host: '127.0.0.1',
        ...(args.catalog ? { catalogPath: args.catalog } : {}),
        dataDir: join(cwd, 'sandbox-data', 'service-registry'),
        logger,
      })
      return { running: { stop: () => registry.close() } }
    }
    case 'altinn-broker': {
      const { startAltinnBroker } = await import('./standins/altinn-broker/server.js')
      const broker = await startAltinnBroker({
        port: args.port ?? 9098,
        host: '127.0.0.1',
        dataDir: join(cwd, 'sandbox-data', 'altinn-broker'),
        logger,
      })
      return { running: { stop: () => broker.close() } }
    }
    case 'svarut': {
      const { startSvarUt } = await import('./standins/svarut/server.js')
      const svarut = await startSvarUt({
        port: args.port ?? 9097,
        host: '127.0.0.1',
        dataDir: join(cwd, 'sandbox-data', 'svarut'),
        // one SvarUt key pair with the ServiceRegistry stand-in's catalogue (`{"generated": "svarut"}`)
        keysDir: join(cwd, 'sandbox-data', 'service-registry'),
        settings: { serviceRegistryUrl: 'http://127.0.0.1:9099' },
        logger,
      })
      return { running: { stop: () => svarut.close() } }
    }
    case 'service-bus': {
      // as the sandbox runs it: eInnsyn on the same port, the SAS key the ServiceRegistry stand-in's
      const { serviceBusStandIn } = await import('./channels/dpe/channel.js')
      const bus = await serviceBusStandIn.start({
        port: args.port ?? 9095,
        host: '127.0.0.1',
        dataDir: join(cwd, 'sandbox-data', 'service-bus'),
        logger,
        onPublished: () => {},
        serviceRegistry: {
          url: 'http://127.0.0.1:9099',
          dataDir: join(cwd, 'sandbox-data', 'service-registry'),
        },
      })
      return { running: { stop: () => bus.close() } }
    }
    case 'dpi': {
      // as the sandbox runs it: the providers' keys and the trusted certificates the registry stand-in's
      const { dpiStandIn } = await import('./channels/dpi/channel.js')
      const dpi = await dpiStandIn.start({
        port: args.port ?? dpiStandIn.port,
        host: '127.0.0.1',
        dataDir: join(cwd, 'sandbox-data', 'dpi'),
        logger,
        onPublished: () => {},
        serviceRegistry: {
          url: 'http://127.0.0.1:9099',
          dataDir: join(cwd, 'sandbox-data', 'service-registry'),
        },
      })
      return { running: { stop: () => dpi.close() } }
    }
    default: {
      const config = loadConfig({
        cwd,
        env: process.env,
        ...(args.configFile ? { configFile: args.configFile } : {}),
        ...(args.port !== undefined ? { overrides: { 'server.port': String(args.port) } } : {}),
      })
      // the log as configured (logging.format, logging.level.root) from here on
      const ipLogger = createLogger(config.logging)
      const { startIntegrationPoint } = await import('./main.js')
      return {
        running: await startIntegrationPoint({ config, cwd, logger: ipLogger }),
        logger: ipLogger,
        // the grace period, then the leases, the clients and the database, with room to spare
        stopDeadlineMs: config.shutdown.gracePeriodMs + 10_000,
      }
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  async (error) => {
    // configuration problems are the operator's to fix: say what and where, without a stack trace
    const taken = takenPort(error)
    if (await isOperatorError(error)) {
      process.stderr.write(`integrasjonspunkt cannot start: ${(error as Error).message}\n`)
    } else if (taken) {
      process.stderr.write(
        `integrasjonspunkt cannot start: port ${taken} is taken by another program; stop it or choose another port (--port N, or server.port)\n`,
      )
    } else {
      process.stderr.write(`integrasjonspunkt cannot start: ${(error as Error)?.stack ?? String(error)}\n`)
    }
    process.exitCode = 1
  },
)

async function isOperatorError(error: unknown): Promise<boolean> {
  if (error instanceof ConfigError || error instanceof DatasourceError) return true
  if (error instanceof Error && error.name === 'SandboxPortError') return true
  try {
    const [{ StartupError }, { CatalogueError }] = await Promise.all([
      import('./main.js'),
      import('./standins/service-registry/catalog-load.js'),
    ])
    return error instanceof StartupError || error instanceof CatalogueError
  } catch {
    // the module that failed to load is the error to show, whole
    return false
  }
}
