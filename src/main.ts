import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Channel, Intake, OutgoingRefusal, RunningChannel } from './channels/ports.js'
import { channelMigrations, deliverableServices, enabledChannels } from './channels/registry.js'
import type { Config } from './config/types.js'
import { expireConversations } from './conversations/expiry.js'
import { createStatusPort } from './conversations/status-port.js'
import { type Datasource, parseDatasource } from './db/datasource.js'
import { type Db, openDb } from './db/open.js'
import type { InstanceRow } from './db/schema.js'
import { createPayloadStore, payloadStoreKind } from './files/choose-store.js'
import type { PayloadStore } from './files/payload-store.js'
import { buildApp } from './http/app.js'
import { beat, type InstanceInfo, incompatiblePeer, leave, livePeers } from './jobs/instances.js'
import { createLeasedLoop, releaseLeases } from './jobs/leases.js'
import { createLoop, type Loop, type Task } from './jobs/loop.js'
import { createJobRunner, type JobHandler, type JobRunner } from './jobs/runner.js'
import { intakeIncoming, isTransferReceived } from './messages/in/intake.js'
import { sweepIncomingOrphans } from './messages/in/orphans.js'
import { refuseIncoming } from './messages/in/refused-delivery.js'
import { statusReplyJobKind } from './messages/in/status-reply.js'
import {
  type DispatchDeps,
  type OutgoingChannels,
  sendGivenUp,
  sendJobHandler,
  statusReplyJobHandler,
} from './messages/out/dispatch.js'
import { orphanGraceMs, sweepOrphanPayloads } from './messages/out/orphans.js'
import { isSendJob, sendJobKind } from './messages/out/send.js'
import { releaseDeadUploads } from './messages/out/upload-lease.js'
import { buildInfo } from './ops/info.js'
import { createOps, type Ops } from './ops/ops.js'
import { retentionTask } from './ops/retention.js'
import { opsSettings } from './ops/settings.js'
import { closeHttp } from './ops/shutdown.js'
import { logStartupWarnings, startupErrors, startupWarnings } from './ops/warnings.js'
import { type BusinessKeys, KeystoreError, loadBusinessKeys } from './packaging/keys.js'
import { createServiceRegistryClient, type ServiceRegistry } from './registry/client.js'
import type { ServiceIdentifier, StandardBusinessDocument } from './sbd/types.js'
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

/** How often an instance says it is alive (the `instances` table); three missed beats and it is gone. */
const HEARTBEAT_MS = 10_000
/** emitted on `process` once `start` is ready; scripts/cli-entry.mjs (READY_EVENT) listens */
export const SERVER_READY_EVENT = 'integrasjonspunkt:ready'

interface Start {
  config: Config
  cwd: string
  logger: Logger
  clock: Clock
  /** this instance, as its jobs, leases and heartbeat name it */
  workerId: string
}

/**
 * Starts one integration point: store, migrations, payloads, channels, HTTP API and the background work.
 * It starts and serves even when the ServiceRegistry or a broker is down. Several instances may run on
 * one PostgreSQL database (docs/operations.md): jobs are claimed, and singleton tasks leased, per row.
 */
export async function startIntegrationPoint(opts: {
  config: Config
  cwd: string
  logger: Logger
  clock?: Clock
}): Promise<RunningIntegrationPoint> {
  const started = Date.now()
  const { config, logger } = opts
  const s: Start = {
    ...opts,
    clock: opts.clock ?? systemClock,
    workerId: `${config.org.number}-${process.pid}-${randomUUID().slice(0, 8)}`,
  }
  // checked before anything is opened: each of these stops the start with its message
  const settings = opsSettings(config)
  const problems = startupErrors(config)
  if (problems.length > 0) throw new StartupError(problems.join('\n'))
  const channels = enabledChannels(config.features.enabled)
  const datasource = parseDatasource(
    config.datasource.url,
    config.datasource.username,
    config.datasource.password,
  )

  const db = await openDb(datasource, { cwd: s.cwd, migrations: channelMigrations() })
  // what to close, the most recent first; the database last
  const closing: (() => Promise<unknown>)[] = [() => db.close()]
  const abandon = async () => {
    for (const close of closing) await close().catch(() => {})
  }
  try {
    const payloads = createPayloadStore({ config, db, cwd: s.cwd, clock: s.clock })
    const me = await joinPeers(s, db, payloads, channels)
    closing.unshift(() => leave(db, s.workerId, s.clock.now().getTime()))
    await sweepAtStart(s, db, payloads)
    const keys = await businessKeys(s, channels)
    const transports = deliverableServices(config.features.enabled)
    const ops = createOps({ config, db, clock: s.clock, payloads, settings, transports })
    const registry = createServiceRegistryClient({
      ...config.serviceRegistry,
      clock: s.clock,
      onCacheLookup: ops.metrics.registryCache,
    })
    closing.unshift(() => registry.close())
    let nudgeJobs = () => {}
    const running = await startChannels(s, channels, {
      db,
      payloads,
      registry,
      keys,
      ops,
      onSendJob: () => nudgeJobs(),
    })
    closing.unshift(() => Promise.all([...running.values()].map((c) => c.close())))
    const jobs = jobRunner(s, db, payloads, running, ops)
    nudgeJobs = () => jobs.nudge()
    const app = await buildApp(
      {
        config,
        db,
        clock: s.clock,
        registry,
        payloads,
        logger,
        newUuid: randomUUID,
        keys,
        onSendJob: nudgeJobs,
        ops,
        transports,
        checkOutgoing: outgoingChecks(running),
      },
      config.ssl.enabled ? { https: tlsOptions(config) } : {},
    )
    const pollers = pollerLoops(s, db, running)
    const loops: Loop[] = [jobs, ...pollers, ...backgroundLoops(s, db, payloads, me)]
    const address = await app.listen({ port: config.server.port, host: config.server.host || '0.0.0.0' })
    const url = address.replace('0.0.0.0', '127.0.0.1')
    me.url = url
    await beat(db, me, s.clock.now().getTime(), me.startedAt)
    for (const loop of loops) loop.start()
    ops.lifecycle.ready()
    logStartupWarnings(logger, startupWarnings({ config, datasource, keys, now: s.clock.now() }))
    announce(s, datasource, address, started)

    const stop = stopInOrder(s, { app, loops, db, closing })
    return {
      app,
      db,
      url,
      stop,
      nudgeReceivers: () => {
        for (const p of pollers) p.nudge()
      },
    }
  } catch (error) {
    await abandon()
    throw error
  }
}

/**
 * Says this instance is here, and refuses to start beside instances that keep payloads where this one
 * cannot read them; payload files beside other instances are warned about (each has its own disk).
 */
async function joinPeers(
  s: Start,
  db: Db,
  payloads: PayloadStore,
  channels: readonly Channel[],
): Promise<Instance> {
  const now = s.clock.now().getTime()
  const me: Instance = {
    id: s.workerId,
    url: null,
    payloadStore: payloadStoreKind(s.config, db.caps.name),
    services: channels.map((c) => c.service),
    version: buildInfo().version,
    startedAt: now,
    warnedAbout: new Set(),
  }
  const peers = await livePeers(db, s.workerId, now, HEARTBEAT_MS)
  const why = incompatiblePeer(me.payloadStore, peers)
  if (why) throw new StartupError(why)
  await beat(db, me, now, me.startedAt)
  warnIfFilesShared(s.logger, me, payloads, peers)
  return me
}

/** This instance as the `instances` table shows it, and the peers it has warned about. */
interface Instance extends InstanceInfo {
  startedAt: number
  warnedAbout: Set<string>
}

function warnIfFilesShared(
  logger: Logger,
  me: Instance,
  payloads: PayloadStore,
  peers: readonly InstanceRow[],
) {
  if (me.payloadStore !== 'files' || peers.every((p) => me.warnedAbout.has(p.id))) return
  for (const p of peers) me.warnedAbout.add(p.id)
  warnFilesShared(logger, payloads, peers.length)
}

function warnFilesShared(logger: Logger, payloads: PayloadStore, peers: number): void {
  logger.warn(
    { setting: 'difi.move.nextmove.use-db-persistence', instances: peers + 1, folder: payloads.tempDir },
    `${peers + 1} integration points run on this database with payloads in files ` +
      '(difi.move.nextmove.use-db-persistence=false): a message stored by one cannot be sent or popped by ' +
      'another unless they share one payload folder; set difi.move.nextmove.use-db-persistence=true on every ' +
      'instance (docs/operations.md)',
  )
}

/** What a crash may have left: temp files, uploads of a dead instance, payloads no row refers to. */
async function sweepAtStart(s: Start, db: Db, payloads: PayloadStore): Promise<void> {
  try {
    await payloads.sweepTemp(60 * 60 * 1000)
    await releaseDeadUploads(db)
    const grace = orphanGraceMs(db)
    const orphans =
      (await sweepOrphanPayloads(db, payloads, grace)) + (await sweepIncomingOrphans(db, payloads, grace))
    if (orphans) s.logger.info({ orphans }, 'removed payloads left behind by an earlier crash')
  } catch (error) {
    s.logger.warn({ err: error }, 'could not sweep the payload store')
  }
}

/** The business certificate, when an enabled channel signs or decrypts with it. */
async function businessKeys(s: Start, channels: readonly Channel[]): Promise<BusinessKeys | null> {
  const users = channels.filter((c) => c.needsBusinessKeys).map((c) => c.service)
  if (users.length === 0) return null
  try {
    return await loadBusinessKeys(s.config.org.keystore, s.clock.now())
  } catch (error) {
    if (error instanceof KeystoreError)
      throw new StartupError(
        `${users.join(' and ')} ${users.length > 1 ? 'are' : 'is'} enabled but the business certificate cannot be used: ${error.message}`,
        { cause: error },
      )
    throw error
  }
}

/** Starts each enabled channel with the intake bound to its service. */
async function startChannels(
  s: Start,
  channels: readonly Channel[],
  deps: {
    db: Db
    payloads: PayloadStore
    registry: ServiceRegistry
    keys: BusinessKeys | null
    ops: Ops
    onSendJob: () => void
  },
): Promise<Map<string, RunningChannel>> {
  const intakeDeps = {
    db: deps.db,
    clock: s.clock,
    payloads: deps.payloads,
    config: s.config,
    logger: s.logger,
    newUuid: randomUUID,
    onSendJob: deps.onSendJob,
    onRefused: deps.ops.metrics.refused,
  }
  const running = new Map<string, RunningChannel>()
  try {
    for (const channel of channels) {
      const service = channel.service
      const intake: Intake = {
        take: (d) => intakeIncoming(intakeDeps, { ...d, serviceIdentifier: service }),
        alreadyReceived: (ref) => isTransferReceived(deps.db.kysely, ref),
        refuse: (d) =>
          refuseIncoming(intakeDeps, { ...d, sbd: null, serviceIdentifier: service, kind: 'container' }),
        timed: (e) => deps.ops.metrics.received({ service, ...e }),
      }
      running.set(
        service,
        await channel.start({
          ...deps,
          statuses: createStatusPort({ db: deps.db, clock: s.clock }, service),
          config: s.config,
          clock: s.clock,
          logger: s.logger,
          intake,
          newUuid: randomUUID,
        }),
      )
    }
  } catch (error) {
    await Promise.all([...running.values()].map((c) => c.close()))
    throw error
  }
  return running
}

/**
 * The running channels' create-time checks, by service. The app is built only once every channel has
 * started, so no message is created before its channel can check it; a service with no channel running
 * here was refused at create already (ServiceNotEnabled), so there is nothing to ask.
 */
function outgoingChecks(
  running: ReadonlyMap<string, RunningChannel>,
): (service: ServiceIdentifier, sbd: StandardBusinessDocument) => Promise<OutgoingRefusal | null> {
  return async (service, sbd) => (await running.get(service)?.checkOutgoing?.(sbd)) ?? null
}

/** The outbox's workers: send and status jobs of the services running here, and webhook deliveries. */
function jobRunner(
  s: Start,
  db: Db,
  payloads: PayloadStore,
  running: ReadonlyMap<string, RunningChannel>,
  ops: Ops,
): JobRunner {
  const { config } = s
  const channels: OutgoingChannels = Object.fromEntries(running)
  const dispatch: DispatchDeps = {
    db,
    clock: s.clock,
    logger: s.logger,
    payloads,
    channels,
    onSendTimed: ops.metrics.sent,
  }
  const handlers: Record<string, JobHandler> = {
    [WEBHOOK_JOB]: webhookJobHandler({
      db,
      clock: s.clock,
      logger: s.logger,
      config: config.webhooks,
      observer: ops.metrics.webhooks,
    }),
  }
  // a kind per service: an instance claims only the jobs of the services it has
  for (const service of running.keys()) {
    handlers[sendJobKind(service)] = sendJobHandler(dispatch)
    handlers[statusReplyJobKind(service)] = statusReplyJobHandler(dispatch)
  }
  return createJobRunner({
    db,
    clock: s.clock,
    logger: s.logger,
    workerId: s.workerId,
    concurrency: config.jobs.concurrency,
    leaseMs: config.jobs.leaseMs,
    shutdownGraceMs: config.shutdown.gracePeriodMs,
    retry: { baseMs: config.jobs.retryInitialMs, maxMs: config.jobs.retryMaxMs, maxAttempts: 1000 },
    // the next retry is rarely more than a second away from a poll of the (indexed) due jobs
    intervalMs: Math.min(1000, config.jobs.retryInitialMs),
    observer: ops.metrics.jobs,
    handlers,
    onGiveUp: async (job, error) => {
      if (isSendJob(job.kind)) await sendGivenUp(dispatch, job, error)
    },
  })
}

/** Every channel's pollers, each a singleton across the instances on this database. */
function pollerLoops(s: Start, db: Db, running: ReadonlyMap<string, RunningChannel>): Loop[] {
  return [...running.values()].flatMap((channel) =>
    channel.pollers.map((p) =>
      leased(s, db, {
        name: p.name,
        intervalMs: p.intervalMs,
        tick: () => p.tick(),
        onError: (err) =>
          s.logger.warn({ err, task: p.name }, `${p.name} failed; trying again: ${(err as Error).message}`),
      }),
    ),
  )
}

/** Expiry, sweeps, retention (singletons across instances) and this instance's own heartbeat and temp files. */
function backgroundLoops(s: Start, db: Db, payloads: PayloadStore, me: Instance): Loop[] {
  const { config, logger, clock } = s
  const tenMinutes = 10 * 60 * 1000
  const singletons: Task[] = [
    {
      name: 'expiry',
      intervalMs: config.nextmove.ttlPollingRateMs,
      tick: () => expireConversations(db, clock, 100, payloads),
      onError: (err) => logger.error({ err }, 'expiry job failed; it runs again'),
    },
    {
      name: 'payload-sweep',
      intervalMs: tenMinutes,
      tick: async () => {
        await sweepOrphanPayloads(db, payloads, tenMinutes)
        await sweepIncomingOrphans(db, payloads, tenMinutes)
        // one round per interval: the loop would go again at once if it said it did work
        return 0
      },
      onError: (err) => logger.error({ err }, 'payload sweep failed; it runs again'),
    },
    ...[retentionTask({ db, clock, payloads, logger }, config.retention)].filter((t) => t !== null),
  ]
  return [
    ...singletons.map((t) => leased(s, db, t)),
    createLoop({
      name: 'instance',
      intervalMs: HEARTBEAT_MS,
      tick: async () => {
        const now = clock.now().getTime()
        await beat(db, me, now, me.startedAt)
        warnIfFilesShared(logger, me, payloads, await livePeers(db, s.workerId, now, HEARTBEAT_MS))
        return 0
      },
      onError: (err) => logger.warn({ err }, 'could not record this instance in the database; trying again'),
    }),
    // this instance's own temp files (the payload store's temp folder is local to each)
    createLoop({
      name: 'temp-sweep',
      intervalMs: tenMinutes,
      tick: async () => {
        await payloads.sweepTemp(60 * 60 * 1000)
        return 0
      },
      onError: (err) => logger.warn({ err }, 'could not sweep the temp files; trying again'),
    }),
  ]
}

/**
 * The stop, ordered and idempotent: refuse new requests; give loops and requests the grace period (then
 * abandon them: src/ops/shutdown.ts says why that is safe; the job runner releases its leases either way);
 * give up the singleton tasks; close the channels and the registry client, then the database.
 */
function stopInOrder(
  s: Start,
  r: {
    app: FastifyInstance & { draining(): void }
    loops: Loop[]
    db: Db
    closing: (() => Promise<unknown>)[]
  },
): () => Promise<void> {
  let stopping: Promise<void> | null = null
  return () => {
    stopping ??= (async () => {
      r.app.draining()
      const grace = s.config.shutdown.gracePeriodMs
      await Promise.all([
        ...r.loops.map(async (l) => {
          if (!(await endsWithin(l.stop(), grace + 1000)))
            s.logger.warn('a background loop still running at shutdown is abandoned')
        }),
        closeHttp(r.app, grace, s.logger),
      ])
      // another instance takes the singleton tasks over at once instead of after the lease
      await releaseLeases(r.db, s.workerId).catch(() => {})
      // an abandoned upload or download would hold these open until it ends; likewise a transaction
      // it left open, which the process exit that follows rolls back
      const database = r.closing.pop()!
      await endsWithin(Promise.all(r.closing.map((close) => close())), 1000)
      if (!(await endsWithin(database(), 2000)))
        s.logger.warn('database connections still busy at shutdown are dropped')
    })()
    return stopping
  }
}

function leased(s: Start, db: Db, task: Task): Loop {
  return createLeasedLoop({
    ...task,
    db,
    clock: s.clock,
    logger: s.logger,
    holder: s.workerId,
    leaseMs: s.config.jobs.leaseMs,
  })
}

function announce(s: Start, datasource: Datasource, address: string, started: number): void {
  const { config } = s
  s.logger.info(
    {
      org: config.org.number,
      url: address,
      database: datasource.kind === 'sqlite' ? `sqlite ${resolve(s.cwd, datasource.path)}` : 'postgresql',
      payloads: payloadStoreKind(config, datasource.kind),
      instance: s.workerId,
      serviceRegistry: config.serviceRegistry.endpoint,
      auth: config.security.enable ? 'basic' : 'off',
      services: Object.entries(config.features.enabled)
        .filter(([, on]) => on)
        .map(([si]) => si),
      startupMs: Date.now() - started,
    },
    `integrasjonspunkt for ${config.org.number} ready on ${address}`,
  )
  // the built command's entry writes its code cache now, while the start's compiled code is all there
  // (scripts/cli-entry.mjs); nothing else listens (process's own typings know only Node's events)
  const events: NodeJS.EventEmitter = process
  events.emit(SERVER_READY_EVENT)
}

function tlsOptions(config: Config) {
  const path = config.ssl.keyStore!
  return { pfx: readFileSync(path), passphrase: config.ssl.keyStorePassword ?? undefined }
}
