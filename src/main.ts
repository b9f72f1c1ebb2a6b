import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { createDpoChannel, type DpoChannel } from './channels/dpo/channel.js'
import { deliverableServices } from './channels/registry.js'
import type { Config } from './config/types.js'
import { expireConversations } from './conversations/expiry.js'
import { parseDatasource } from './db/datasource.js'
import { type Db, openDb } from './db/open.js'
import { createLocalPayloadStore } from './files/payload-store.js'
import { buildApp } from './http/app.js'
import { createLoop, type Loop } from './jobs/loop.js'
import { createJobRunner } from './jobs/runner.js'
import { intakeIncoming, isTransferReceived } from './messages/in/intake.js'
import { sweepIncomingOrphans } from './messages/in/orphans.js'
import { refuseIncoming } from './messages/in/refused-delivery.js'
import { STATUS_REPLY_JOB } from './messages/in/status-reply.js'
import {
  type OutgoingChannels,
  sendGivenUp,
  sendJobHandler,
  statusReplyJobHandler,
} from './messages/out/dispatch.js'
import { orphanGraceMs, sweepOrphanPayloads } from './messages/out/orphans.js'
import { SEND_JOB } from './messages/out/send.js'
import { releaseDeadUploads } from './messages/out/upload-lease.js'
import { createOps } from './ops/ops.js'
import { createRetentionLoop } from './ops/retention.js'
import { opsSettings } from './ops/settings.js'
import { closeHttp } from './ops/shutdown.js'
import { logStartupWarnings, startupWarnings } from './ops/warnings.js'
import { type BusinessKeys, KeystoreError, loadBusinessKeys } from './packaging/keys.js'
import { createServiceRegistryClient } from './registry/client.js'
import { endsWithin } from './util/async.js'
import { type Clock, systemClock } from './util/time.js'
import { WEBHOOK_JOB } from './webhooks/deliveries.js'
import { webhookJobHandler } from './webhooks/handler.js'

export interface RunningIntegrationPoint {
  app: FastifyInstance
  db: Db
  url: string
  /** ordered, idempotent: refuse new requests, stop loops, close HTTP, close the database */
  stop(): Promise<void>
  /** a broker says something was published for us: poll at once instead of at the next interval */
  nudgeReceivers(): void
}

/** A configuration the integration point cannot start with; the message says what to fix. */
export class StartupError extends Error {
  override name = 'StartupError'
}

/**
 * Starts one integration point: store, migrations, payload folder, registry client, HTTP API and the
 * background loops. It starts and serves even when the ServiceRegistry or a broker is down.
 */
export async function startIntegrationPoint(opts: {
  config: Config
  cwd: string
  logger: Logger
  clock?: Clock
}): Promise<RunningIntegrationPoint> {
  const { config, cwd, logger } = opts
  const clock = opts.clock ?? systemClock
  const started = Date.now()
  // checked before anything is opened: a wrong monitoring setting stops the start with its message
  const settings = opsSettings(config)
  const datasource = parseDatasource(
    config.datasource.url,
    config.datasource.username,
    config.datasource.password,
  )
  const db = await openDb(datasource, { cwd })
  const payloads = createLocalPayloadStore(resolve(cwd, config.nextmove.filedir), { clock })
  // the services with a channel that are enabled: the DPO channel below is made exactly when DPO is on
  const transports = deliverableServices(config.features.enabled)
  const ops = createOps({
    config,
    db,
    clock,
    payloads,
    settings,
    transports,
  })
  const registry = createServiceRegistryClient({
    ...config.serviceRegistry,
    clock,
    onCacheLookup: ops.metrics.registryCache,
  })
  try {
    await payloads.sweepTemp(60 * 60 * 1000)
    await releaseDeadUploads(db)
    const orphans =
      (await sweepOrphanPayloads(db, payloads, orphanGraceMs(db))) +
      (await sweepIncomingOrphans(db, payloads, orphanGraceMs(db)))
    if (orphans) logger.info({ orphans }, 'removed payload folders left behind by an earlier crash')
  } catch (error) {
    logger.warn({ err: error }, 'could not sweep the payload folder')
  }

  let keys: BusinessKeys | null = null
  let dpo: DpoChannel | null = null
  const channels: OutgoingChannels = {}
  let nudgeJobs = () => {}
  if (config.features.enabled.DPO) {
    try {
      keys = await loadBusinessKeys(config.org.keystore, clock.now())
    } catch (error) {
      await registry.close()
      await db.close()
      if (error instanceof KeystoreError)
        throw new StartupError(
          `DPO is enabled but the business certificate cannot be used: ${error.message}`,
          {
            cause: error,
          },
        )
      throw error
    }
    const intakeDeps = {
      db,
      clock,
      payloads,
      config,
      logger,
      newUuid: randomUUID,
      onSendJob: () => nudgeJobs(),
      onRefused: ops.metrics.refused,
    }
    dpo = createDpoChannel({
      config,
      db,
      clock,
      logger,
      payloads,
      registry,
      keys,
      newUuid: randomUUID,
      intake: {
        take: (d) => intakeIncoming(intakeDeps, { ...d, serviceIdentifier: 'DPO' }),
        alreadyReceived: (ref) => isTransferReceived(db.kysely, ref),
        refuse: (d) =>
          refuseIncoming(intakeDeps, { ...d, sbd: null, serviceIdentifier: 'DPO', kind: 'container' }),
        timed: (e) => ops.metrics.received({ service: 'DPO', ...e }),
      },
    })
    channels.DPO = dpo.outgoing
  }
  const dispatch = { db, clock, logger, payloads, channels, onSendTimed: ops.metrics.sent }
  const jobs = createJobRunner({
    db,
    clock,
    logger,
    workerId: `${config.org.number}-${process.pid}-${randomUUID().slice(0, 8)}`,
    concurrency: config.jobs.concurrency,
    leaseMs: config.jobs.leaseMs,
    shutdownGraceMs: config.shutdown.gracePeriodMs,
    retry: { baseMs: config.jobs.retryInitialMs, maxMs: config.jobs.retryMaxMs, maxAttempts: 1000 },
    // the next retry is rarely more than a second away from a poll of the (indexed) due jobs
    intervalMs: Math.min(1000, config.jobs.retryInitialMs),
    observer: ops.metrics.jobs,
    handlers: {
      [SEND_JOB]: sendJobHandler(dispatch),
      [STATUS_REPLY_JOB]: statusReplyJobHandler(dispatch),
      [WEBHOOK_JOB]: webhookJobHandler({
        db,
        clock,
        logger,
        config: config.webhooks,
        observer: ops.metrics.webhooks,
      }),
    },
    onGiveUp: async (job, error) => {
      if (job.kind === SEND_JOB) await sendGivenUp(dispatch, job, error)
    },
  })
  nudgeJobs = () => jobs.nudge()

  const app = await buildApp(
    {
      config,
      db,
      clock,
      registry,
      payloads,
      logger,
      newUuid: randomUUID,
      keys,
      onSendJob: nudgeJobs,
      ops,
      transports,
    },
    config.ssl.enabled ? { https: tlsOptions(config) } : {},
  )
  const loops: Loop[] = [
    jobs,
    ...(dpo ? [dpo.poller] : []),
    createLoop({
      name: 'expiry',
      intervalMs: config.nextmove.ttlPollingRateMs,
      tick: () => expireConversations(db, clock, 100, payloads),
      onError: (err) => logger.error({ err }, 'expiry job failed; it runs again'),
    }),
    createLoop({
      name: 'payload-sweep',
      intervalMs: 10 * 60 * 1000,
      tick: async () => {
        await payloads.sweepTemp(60 * 60 * 1000)
        await sweepOrphanPayloads(db, payloads, 10 * 60 * 1000)
        await sweepIncomingOrphans(db, payloads, 10 * 60 * 1000)
        // one round per interval: the loop would go again at once if it said it did work
        return 0
      },
      onError: (err) => logger.error({ err }, 'payload sweep failed; it runs again'),
    }),
    ...[createRetentionLoop({ db, clock, payloads, logger }, config.retention)].filter((l) => l !== null),
  ]
  const address = await app.listen({ port: config.server.port, host: config.server.host || '0.0.0.0' })
  for (const loop of loops) loop.start()
  ops.lifecycle.ready()
  const url = address.replace('0.0.0.0', '127.0.0.1')
  logStartupWarnings(logger, startupWarnings({ config, datasource, keys, now: clock.now() }))
  logger.info(
    {
      org: config.org.number,
      url: address,
      database: datasource.kind === 'sqlite' ? `sqlite ${resolve(cwd, datasource.path)}` : 'postgresql',
      serviceRegistry: config.serviceRegistry.endpoint,
      auth: config.security.enable ? 'basic' : 'off',
      services: Object.entries(config.features.enabled)
        .filter(([, on]) => on)
        .map(([si]) => si),
      startupMs: Date.now() - started,
    },
    `integrasjonspunkt for ${config.org.number} ready on ${address}`,
  )

  let stopping: Promise<void> | null = null
  const stop = () => {
    stopping ??= (async () => {
      app.draining()
      // running work gets the grace period, then is abandoned (src/ops/shutdown.ts says why that is safe);
      // the job runner releases its leases either way
      const grace = config.shutdown.gracePeriodMs
      await Promise.all([
        ...loops.map(async (l) => {
          if (!(await endsWithin(l.stop(), grace + 1000)))
            logger.warn('a background loop still running at shutdown is abandoned')
        }),
        closeHttp(app, grace, logger),
      ])
      // an abandoned upload or download would hold these open until it ends
      await endsWithin(Promise.all([dpo?.close(), registry.close()]), 1000)
      // likewise a transaction it left open; the process exit that follows rolls it back
      if (!(await endsWithin(db.close(), 2000)))
        logger.warn('database connections still busy at shutdown are dropped')
    })()
    return stopping
  }
  return { app, db, url, stop, nudgeReceivers: () => dpo?.poller.nudge() }
}

function tlsOptions(config: Config) {
  const path = config.ssl.keyStore!
  return { pfx: readFileSync(path), passphrase: config.ssl.keyStorePassword ?? undefined }
}
