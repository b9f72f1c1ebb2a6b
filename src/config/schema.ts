import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { SERVICE_IDENTIFIERS } from '../sbd/types.js'
import { checkDatasourceUrl } from './datasource.js'
import type { ConfigIssue } from './errors.js'
import { type Field, fail, field, ok } from './fields.js'
import { ALLOWED_HOST_ENTRY } from './hosts.js'
import type { ResolvedProperties } from './sources.js'
import type { ChannelId, Config } from './types.js'

/** What the sections need besides the properties: the working directory and whether a key was left at its default. */
export interface SectionContext {
  cwd: string
  isDefault(key: string): boolean
  /** set by the operator (file, environment, overrides), not by a built-in or profile default */
  isExplicit(key: string): boolean
}

type Fields = Record<string, Field<unknown>>
type Output<F extends Fields> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never }

interface SectionSpec<F extends Fields, T> {
  fields: F
  /** cross-field rules and final shaping */
  finish?: (value: Output<F>, ctx: SectionContext, issue: (key: string, message: string) => void) => T
}

/** A section's fields, its zod schema (one object schema per section) and its cross-field rules. */
interface Section<F extends Fields, T> extends SectionSpec<F, T> {
  schema: z.ZodType<Output<F>>
}

function section<F extends Fields, T = Output<F>>(spec: SectionSpec<F, T>): Section<F, T> {
  const shape = Object.fromEntries(Object.entries(spec.fields).map(([name, f]) => [name, f.schema]))
  return { ...spec, schema: z.object(shape) as unknown as z.ZodType<Output<F>> }
}

/** A path in the configuration: `file:` prefix removed, other schemes (`vault:`) kept, relative made absolute. */
function toPath(value: string | null, cwd: string): string | null {
  if (value === null) return null
  const path = value.startsWith('file:') ? value.slice('file:'.length) : value
  if (/^[a-z][a-z0-9+.-]+:/i.test(path) || isAbsolute(path)) return path
  return resolve(cwd, path)
}

const perChannel = <T>(make: (id: ChannelId) => Field<T>): Record<ChannelId, Field<T>> =>
  Object.fromEntries(SERVICE_IDENTIFIERS.map((id) => [id, make(id)])) as Record<ChannelId, Field<T>>

const CHANNEL_PREFIX: Record<ChannelId, string> = {
  DPO: 'difi.move.dpo',
  DPV: 'difi.move.dpv',
  DPI: 'difi.move.dpi',
  DPF: 'difi.move.fiks.ut',
  DPE: 'difi.move.nextmove.serviceBus',
  DPH: 'difi.move.dph',
}

const ORG_NUMBER = 'difi.move.org.number'
const USE_DB_PERSISTENCE = 'difi.move.nextmove.use-db-persistence'

const server = section({
  fields: {
    port: field.port('server.port'),
    host: field.textOr('server.address', ''),
    idleTimeoutMs: field.duration('server.tomcat.connection-timeout'),
    keepAliveTimeoutMs: field.duration('server.tomcat.keep-alive-timeout'),
    headersTimeoutMs: field.int('difi.move.http.headers-timeout-ms'),
  },
})

const org = section({
  fields: {
    number: field.custom(ORG_NUMBER, (raw) => {
      if (!raw) return fail(`${ORG_NUMBER} is required: set it to your organisation number (9 digits)`)
      return /^\d{9}$/.test(raw)
        ? ok(raw)
        : fail(`${ORG_NUMBER} must be exactly 9 digits, got ${JSON.stringify(raw)}`)
    }),
    path: field.optionalText('difi.move.org.keystore.path'),
    password: field.optionalText('difi.move.org.keystore.password'),
    alias: field.optionalText('difi.move.org.keystore.alias'),
    type: field.textOr('difi.move.org.keystore.type', 'PKCS12'),
  },
  finish: (v, ctx): Config['org'] => ({
    number: v.number,
    keystore: {
      path: toPath(v.path, ctx.cwd),
      password: v.password,
      alias: v.alias,
      type: v.type.toUpperCase(),
    },
  }),
})

const serviceRegistry = section({
  fields: {
    endpoint: field.httpUrl('difi.move.serviceregistryEndpoint'),
    signEnable: field.bool('difi.move.sign.enable'),
    jwkUrl: field.httpUrl('difi.move.sign.jwkUrl'),
    timeoutMs: field.int('difi.move.serviceregistry.timeout-ms'),
    cacheTtlSeconds: field.int('difi.move.serviceregistry.cache-ttl-seconds', 0),
    printLookup: field.bool('difi.move.feature.enableDsfPrintLookup'),
    betaFeatures: field.bool('difi.move.feature.enableBetaFeatures'),
  },
})

const security = section({
  fields: {
    enable: field.bool('difi.security.enable'),
    username: field.optionalText('difi.security.user.name'),
    password: field.optionalText('difi.security.user.password'),
  },
  finish: (v, ctx, issue): Config['security'] => {
    if (v.enable && v.password === null) {
      const dflt = ctx.isDefault('difi.security.enable') && ctx.isDefault('difi.move.feature.enable-auth')
      issue(
        'difi.security.user.password',
        `difi.security.enable is true${dflt ? ' (the default)' : ''} but difi.security.user.password is empty: ` +
          'set a password or set difi.security.enable=false',
      )
    }
    // Spring Security's user when none is named
    return { enable: v.enable, username: v.username ?? 'user', password: v.password }
  },
})

const ssl = section({
  fields: {
    enabled: field.bool('difi.ssl.enabled'),
    keyStore: field.optionalText('difi.ssl.key-store'),
    keyStorePassword: field.optionalText('difi.ssl.key-store-password'),
    keyStoreType: field.textOr('difi.ssl.key-store-type', 'PKCS12'),
    keyAlias: field.optionalText('difi.ssl.key-alias'),
  },
  finish: (v, ctx, issue): Config['ssl'] => {
    const type = v.keyStoreType.toUpperCase()
    if (v.enabled && v.keyStore === null) {
      const dflt = ctx.isDefault('difi.ssl.enabled') && ctx.isDefault('server.ssl.enabled')
      issue(
        'difi.ssl.key-store',
        `difi.ssl.enabled is true${dflt ? ' (the default)' : ''} but difi.ssl.key-store is not set: ` +
          'point it at a PKCS#12 file or set difi.ssl.enabled=false',
      )
    } else if (v.enabled && type !== 'PKCS12') {
      issue(
        'difi.ssl.key-store-type',
        `difi.ssl.key-store-type must be PKCS12, got ${JSON.stringify(v.keyStoreType)}: ` +
          'convert the keystore with keytool -importkeystore -deststoretype PKCS12',
      )
    }
    return { ...v, keyStore: toPath(v.keyStore, ctx.cwd), keyStoreType: type }
  },
})

const datasource = section({
  fields: {
    url: field.text('difi.datasource.url', 'set it to jdbc:sqlite:PATH or a PostgreSQL URL'),
    username: field.optionalText('difi.datasource.username'),
    password: field.optionalText('difi.datasource.password'),
  },
  finish: (v, ctx, issue): Config['datasource'] => {
    const url = checkDatasourceUrl('difi.datasource.url', v.url, ctx.cwd)
    if (!url.ok) issue('difi.datasource.url', url.message)
    return { ...v, url: url.ok ? url.value : v.url }
  },
})

const nextmove = section({
  fields: {
    filedir: field.text('difi.move.nextmove.filedir', 'set it to the folder for message files'),
    lockTimeoutMinutes: field.int('difi.move.nextmove.lockTimeoutMinutes'),
    defaultTtlHours: field.int('difi.move.nextmove.default-ttl-hours'),
    statusServices: field.channels('difi.move.nextmove.status-services'),
    ttlPollingRateMs: field.int('difi.move.nextmove.ttlPollingrate'),
    maxCompressionRatio: field.int('difi.move.nextmove.max-compression-ratio', 2),
    useDbPersistence: field.bool(USE_DB_PERSISTENCE),
  },
  finish: (v, ctx): Config['nextmove'] => ({
    ...v,
    filedir: toPath(v.filedir, ctx.cwd)!,
    // left at the reference's default, the store follows the database (src/files/choose-store.ts)
    useDbPersistence: ctx.isDefault(USE_DB_PERSISTENCE) ? null : v.useDbPersistence,
  }),
})

const ttlHours = section({ fields: perChannel((id) => field.int(`${CHANNEL_PREFIX[id]}.default-ttl-hours`)) })

const uploadSizeLimit = section({
  fields: perChannel((id) =>
    field.dataSize(
      `${id === 'DPE' ? 'difi.move.nextmove.service-bus' : CHANNEL_PREFIX[id]}.upload-size-limit`,
    ),
  ),
})

const features = section({
  fields: {
    ...perChannel((id) => field.bool(`difi.move.feature.enable${id}`)),
    statusQueueIncludes: field.channels('difi.move.feature.statusQueueIncludes'),
    enableReceipts: field.bool('difi.move.feature.enableReceipts'),
  },
  finish: (v, ctx): Config['features'] => {
    const { statusQueueIncludes, enableReceipts, ...enabled } = v
    const explicit = Object.fromEntries(
      Object.keys(enabled).map((id) => [id, ctx.isExplicit(`difi.move.feature.enable${id}`)]),
    ) as Record<ChannelId, boolean>
    return { enabled, explicit, statusQueueIncludes, enableReceipts }
  },
})

const arkivmelding = section({
  fields: {
    defaultProcess: field.text('difi.move.arkivmelding.default-process'),
    dpvDefaultProcess: field.text('difi.move.arkivmelding.dpv-default-process'),
    defaultDocumentType: field.text('difi.move.arkivmelding.default-document-type'),
    receiptProcess: field.text('difi.move.arkivmelding.receipt-process'),
    receiptDocumentType: field.text('difi.move.arkivmelding.receipt-document-type'),
    generateReceipts: field.bool('difi.move.arkivmelding.generate-arkivmelding-receipts'),
  },
})

const einnsyn = section({
  fields: {
    defaultJournalProcess: field.text('difi.move.einnsyn.default-journal-process'),
    defaultInnsynskravProcess: field.text('difi.move.einnsyn.default-innsynskrav-process'),
    receiptProcess: field.text('difi.move.einnsyn.receipt-process'),
    defaultJournalDocumentType: field.text('difi.move.einnsyn.default-journal-document-type'),
    defaultInnsynskravDocumentType: field.text('difi.move.einnsyn.default-innsynskrav-document-type'),
  },
})

const avtalt = section({ fields: { receiptProcess: field.text('difi.move.avtalt.receipt-process') } })

const MESSAGE_CHANNEL = 'difi.move.dpo.message-channel'
const dpo = section({
  fields: {
    brokerUrl: field.httpUrl('difi.move.dpo.brokerserviceUrl'),
    exchangeUrl: field.httpUrl('difi.move.dpo.altinnTokenExchangeUrl'),
    resource: field.text('difi.move.dpo.resource'),
    systemUserOrgId: field.text('difi.move.dpo.systemUser.orgId'),
    systemUserName: field.text('difi.move.dpo.systemUser.name'),
    connectTimeoutMs: field.int('difi.move.dpo.connectTimeout'),
    requestTimeoutMs: field.int('difi.move.dpo.requestTimeout'),
    pollingRateMs: field.int('difi.move.dpo.pollingrate'),
    maskinportenAudience: field.text('difi.move.oidc.audience'),
    reportees: field.systemUsers('difi.move.dpo.reportees'),
    oidcEnable: field.bool('difi.move.oidc.enable'),
    oidcUrl: field.httpUrl('difi.move.oidc.url'),
    // the reference's @Pattern("^[a-zA-Z0-9-_]{0,25}$") on AltinnFormidlingsTjenestenConfig.messageChannel
    messageChannel: field.custom(MESSAGE_CHANNEL, (raw) =>
      !raw || /^[a-zA-Z0-9_-]{1,25}$/.test(raw)
        ? ok(raw || null)
        : fail(
            `${MESSAGE_CHANNEL} must be at most 25 letters, digits, "-" or "_", got ${JSON.stringify(raw)}`,
          ),
    ),
  },
  finish: ({ oidcEnable, oidcUrl, ...v }): Config['dpo'] => ({
    ...v,
    maskinportenUrl: oidcEnable ? oidcUrl : null,
  }),
})

const dpv = section({
  fields: {
    correspondenceUrl: field.httpUrl('difi.move.dpv.correspondenceServiceUrl'),
    exchangeUrl: field.httpUrl('difi.move.dpv.altinnTokenExchangeUrl'),
    healthCheckUrl: field.httpUrl('difi.move.dpv.health-check-url'),
    notifyEmail: field.bool('difi.move.dpv.notifyEmail'),
    notifySms: field.bool('difi.move.dpv.notifySms'),
    emailSubject: field.text('difi.move.dpv.email-subject'),
    notificationText: field.text('difi.move.dpv.notification-text'),
    sensitiveNotificationText: field.text('difi.move.dpv.sensitive-notification-text'),
    daysToReply: field.int('difi.move.dpv.daysToReply', 0),
    enableDueDate: field.bool('difi.move.dpv.enableDueDate'),
    sensitiveResource: field.text('difi.move.dpv.sensitiveResource'),
    statusPollingRateMs: field.int('difi.move.dpv.status-pollingrate'),
    requestTimeoutMs: field.int('difi.move.dpv.requestTimeout'),
    maskinportenAudience: field.text('difi.move.oidc.audience'),
    oidcEnable: field.bool('difi.move.oidc.enable'),
    oidcUrl: field.httpUrl('difi.move.oidc.url'),
  },
  finish: ({ oidcEnable, oidcUrl, ...v }): Config['dpv'] => ({
    ...v,
    maskinportenUrl: oidcEnable ? oidcUrl : null,
  }),
})

const DPI = 'difi.move.dpi'
const dpi = section({
  fields: {
    uri: field.httpUrl(`${DPI}.uri`),
    // a wrong value is refused here; `file` is refused by the DPI channel, and only when DPI is enabled
    c2Type: field.custom(`${DPI}.c2-type`, (raw) => {
      const v = (raw || 'web').trim().toLowerCase()
      return v === 'web' || v === 'file'
        ? ok(v as 'web' | 'file')
        : fail(`${DPI}.c2-type must be web (the access point's REST API), got ${JSON.stringify(raw)}`)
    }),
    mpcId: field.text(`${DPI}.mpcId`),
    // 0 is read so that the DPI channel, when enabled, can say what is wrong with it
    mpcConcurrency: field.int(`${DPI}.mpcConcurrency`, 0),
    mpcIdListe: field.strings(`${DPI}.mpcIdListe`, /\S/, 'channel names'),
    pageSize: field.int(`${DPI}.pageSize`),
    pollingRateMs: field.int(`${DPI}.pollingrate`),
    avsenderidentifikatorListe: field.strings(
      `${DPI}.avsenderidentifikatorListe`,
      /^.{1,100}$/,
      'avsenderidentifikatorer (at most 100 characters each)',
    ),
    pollWithoutAvsenderidentifikator: field.bool(`${DPI}.pollWithoutAvsenderidentifikator`),
    connectMs: field.int(`${DPI}.timeout.connect`),
    readMs: field.int(`${DPI}.timeout.read`),
    writeMs: field.int(`${DPI}.timeout.write`),
    certificateMode: field.text(`${DPI}.certificate.mode`),
    krrPrintUrl: field.httpUrl(`${DPI}.krr-print-url`),
    scopes: field.strings(`${DPI}.oidc.scopes`, /^\S+$/, 'Maskinporten scopes'),
    language: field.text(`${DPI}.language`),
    statusPollingRateMs: field.int(`${DPI}.status-pollingrate`),
    maskinportenAudience: field.text('difi.move.oidc.audience'),
    oidcEnable: field.bool('difi.move.oidc.enable'),
    oidcUrl: field.httpUrl('difi.move.oidc.url'),
  },
  finish: ({ oidcEnable, oidcUrl, connectMs, readMs, writeMs, ...v }, _ctx, issue): Config['dpi'] => {
    if (v.scopes.length === 0)
      issue(`${DPI}.oidc.scopes`, `${DPI}.oidc.scopes is empty: leave it out for digitalpostinnbygger:send`)
    return {
      ...v,
      certificateMode: v.certificateMode.trim().toUpperCase(),
      scopes: v.scopes.join(' '),
      timeouts: { connectMs, readMs, writeMs },
      maskinportenUrl: oidcEnable ? oidcUrl : null,
    }
  },
})

const FIKS_TYPE = 'difi.move.fiks.ut.type'
const fiks = section({
  fields: {
    // a wrong value is refused here; `ws` is refused by the DPF channel, and only when DPF is enabled
    type: field.custom(FIKS_TYPE, (raw) => {
      const v = (raw ?? 'rest').trim().toLowerCase()
      return v === 'rest' || v === 'ws'
        ? ok(v as 'rest' | 'ws')
        : fail(`${FIKS_TYPE} must be rest (SvarUt REST v3), got ${JSON.stringify(raw)}`)
    }),
    kryptert: field.bool('difi.move.fiks.kryptert'),
    endpointUrl: field.httpUrl('difi.move.fiks.ut.rest.endpointUrl'),
    kontoId: field.optionalText('difi.move.fiks.ut.rest.kontoid'),
    integrasjonId: field.optionalText('difi.move.fiks.ut.rest.integrasjon-id'),
    integrasjonPassord: field.optionalText('difi.move.fiks.ut.rest.integrasjon-passord'),
    konteringskode: field.optionalText('difi.move.fiks.ut.konteringsKode'),
    kunDigitalLevering: field.bool('difi.move.fiks.ut.kun-digital-levering'),
    ekskluderesFraPrint: field.strings(
      'difi.move.fiks.ut.ekskluderes-fra-print',
      /^(\*|\.?[A-Za-z0-9]+)$/,
      'file extensions (docx, odt, …) or *',
    ),
    scopes: field.text('difi.move.fiks.ut.rest.maskinporten.scopes'),
    maskinportenAudience: field.text('difi.move.fiks.ut.rest.maskinporten.audience'),
    tokenUri: field.httpUrl('difi.move.fiks.ut.rest.maskinporten.token-uri'),
    oidcEnable: field.bool('difi.move.oidc.enable'),
    requestTimeoutMs: field.int('difi.move.fiks.ut.requestTimeout'),
    statusPollingRateMs: field.int('difi.move.fiks.ut.status-pollingrate'),
    innEnable: field.bool('difi.move.fiks.inn.enable'),
    baseUrl: field.httpUrl('difi.move.fiks.inn.baseUrl'),
    username: field.optionalText('difi.move.fiks.inn.username'),
    password: field.optionalText('difi.move.fiks.inn.password'),
    process: field.text('difi.move.fiks.inn.process'),
    documentType: field.text('difi.move.fiks.inn.document-type'),
    orgnr: field.text('difi.move.fiks.inn.orgnr'),
    fallbackSenderOrgNr: field.text('difi.move.fiks.inn.fallback-sender-org-nr'),
    connectTimeoutMs: field.int('difi.move.fiks.inn.connectTimeout'),
    readTimeoutMs: field.int('difi.move.fiks.inn.readTimeout'),
    pollingRateMs: field.int('difi.move.fiks.pollingrate'),
  },
  finish: (v): Config['fiks'] => ({
    type: v.type,
    kryptert: v.kryptert,
    ut: {
      endpointUrl: v.endpointUrl.replace(/\/+$/, ''),
      kontoId: v.kontoId,
      integrasjonId: v.integrasjonId,
      integrasjonPassord: v.integrasjonPassord,
      konteringskode: v.konteringskode,
      kunDigitalLevering: v.kunDigitalLevering,
      // kept without the dot and in lower case: they are compared with a file name's extension
      ekskluderesFraPrint: v.ekskluderesFraPrint.map((e) => e.replace(/^\./, '').toLowerCase()),
      scopes: v.scopes,
      maskinportenAudience: v.maskinportenAudience,
      maskinportenUrl: v.oidcEnable ? v.tokenUri : null,
      requestTimeoutMs: v.requestTimeoutMs,
      statusPollingRateMs: v.statusPollingRateMs,
    },
    inn: {
      enable: v.innEnable,
      baseUrl: v.baseUrl.replace(/\/+$/, ''),
      username: v.username,
      password: v.password,
      process: v.process,
      documentType: v.documentType,
      orgnr: v.orgnr,
      fallbackSenderOrgNr: v.fallbackSenderOrgNr,
      connectTimeoutMs: v.connectTimeoutMs,
      readTimeoutMs: v.readTimeoutMs,
      pollingRateMs: v.pollingRateMs,
    },
  }),
})

const SB = 'difi.move.nextmove.serviceBus'
const serviceBus = section({
  fields: {
    baseUrl: field.text(`${SB}.baseUrl`),
    useHttps: field.bool(`${SB}.useHttps`),
    sasKeyName: field.text(`${SB}.sasKeyName`),
    sasToken: field.optionalText(`${SB}.sasToken`),
    // lower-cased: the reference checks the mode in any case but then uses it as written (see
    // src/channels/dpe/queues.ts); a wrong value is refused here, as the reference refuses it at start
    mode: field.custom(`${SB}.mode`, (raw) => {
      const v = (raw ?? 'innsyn').trim().toLowerCase()
      return v === 'innsyn' || v === 'data' || v === 'meeting'
        ? ok(v as 'innsyn' | 'data' | 'meeting')
        : fail(`${SB}.mode must be innsyn, data or meeting, got ${JSON.stringify(raw)}`)
    }),
    receiptQueue: field.optionalText(`${SB}.receiptQueue`),
    readMaxMessages: field.int(`${SB}.readMaxMessages`),
    pollingRateMs: field.int(`${SB}.pollingrate`),
    connectTimeoutMs: field.int(`${SB}.connectTimeout`),
    batchRead: field.bool(`${SB}.batchRead`),
    oidcEnable: field.bool('difi.move.oidc.enable'),
    oidcUrl: field.httpUrl('difi.move.oidc.url'),
    maskinportenAudience: field.text('difi.move.oidc.audience'),
  },
  finish: ({ oidcEnable, oidcUrl, ...v }): Config['serviceBus'] => ({
    ...v,
    baseUrl: v.baseUrl.trim().replace(/\/+$/, ''),
    receiptQueue: v.receiptQueue?.trim() || null,
    keyFromServiceRegistry: oidcEnable,
    maskinportenUrl: oidcEnable ? oidcUrl : null,
  }),
})

const jobs = section({
  fields: {
    concurrency: field.int('difi.move.nextmove.send-concurrency'),
    retryInitialMs: field.int('difi.move.nextmove.retry.initial-interval-ms'),
    retryMaxMs: field.int('difi.move.nextmove.retry.max-interval-ms'),
    leaseMs: field.int('difi.move.nextmove.job-lease-ms', 3000),
  },
})

const webhooks = section({
  fields: {
    connectTimeoutMs: field.int('difi.move.webhooks.connectTimeout'),
    readTimeoutMs: field.int('difi.move.webhooks.readTimeout'),
    maximumRetryHours: field.int('difi.move.webhooks.maximum-retry-hours'),
    allowedHosts: field.strings(
      'difi.move.webhooks.allowed-hosts',
      ALLOWED_HOST_ENTRY,
      'host names or IP addresses (`*.example.no` for any subdomain)',
    ),
  },
})

const dph = section({
  fields: {
    herIds: field.strings('difi.move.dph.her-ids', /^\d+$/, 'HER-ids (digits)'),
    dialogmeldingDocumentType: field.text('difi.move.dph.dialogmelding-document-type'),
    nhnProcess: field.text('difi.move.dph.nhn-process'),
  },
})

const LOG_LEVELS: Record<string, Config['logging']['level']> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'fatal',
  OFF: 'silent',
}

/** ours: `logging.format`; Spring's `logging.level.root` */
const logging = section({
  fields: {
    format: field.custom('logging.format', (raw) => {
      const v = (raw ?? 'json').trim().toLowerCase()
      return v === 'json' || v === 'text'
        ? ok(v as 'json' | 'text')
        : fail(`logging.format must be json or text, got ${JSON.stringify(raw)}`)
    }),
    level: field.custom('logging.level.root', (raw) => {
      const level = LOG_LEVELS[(raw ?? 'INFO').trim().toUpperCase()]
      return level
        ? ok(level)
        : fail(
            `logging.level.root must be one of ${Object.keys(LOG_LEVELS).join(', ')}, got ${JSON.stringify(raw)}`,
          )
    }),
  },
})

/** ours: removal of finished history (src/ops/retention.ts); 0 days = off */
const retention = section({
  fields: {
    days: field.int('difi.move.retention.days', 0),
    batchSize: field.int('difi.move.retention.batch-size'),
    intervalMs: field.int('difi.move.retention.pollingrate'),
  },
})

/** ours: how long a stop waits for running work before it abandons it (src/ops/shutdown.ts) */
const shutdown = section({
  fields: { gracePeriodMs: field.int('difi.move.shutdown.grace-period-ms', 0) },
})

/** Every section of Config but `properties`, in the order their errors are reported (the organisation number first: nothing works without it). */
export const SECTIONS = {
  org,
  server,
  security,
  ssl,
  datasource,
  serviceRegistry,
  nextmove,
  ttlHours,
  uploadSizeLimit,
  features,
  arkivmelding,
  einnsyn,
  avtalt,
  dpo,
  dpv,
  dpi,
  fiks,
  serviceBus,
  dph,
  jobs,
  webhooks,
  logging,
  retention,
  shutdown,
}

type SectionOutput<S> = S extends Section<infer _F, infer T> ? T : never

/** What the sections produce: Config less `properties`. */
export type ParsedSections = { [K in keyof typeof SECTIONS]: SectionOutput<(typeof SECTIONS)[K]> }

/** Fails to compile when a section's output and its part of Config drift apart. */
export const sectionsMakeConfig = (parsed: ParsedSections): Omit<Config, 'properties'> => parsed

/** Every property key a section reads (for the environment's legacy spellings). */
export const SECTION_KEYS: readonly string[] = Object.values(SECTIONS).flatMap((s) =>
  Object.values(s.fields as Fields).map((f) => f.key),
)

/** Every section, or undefined when any property is wrong (the problems are in `issues`). */
export function parseSections(
  props: ResolvedProperties,
  ctx: SectionContext,
  issues: ConfigIssue[],
): ParsedSections | undefined {
  const entries = Object.entries(SECTIONS as Record<string, Section<Fields, unknown>>).map(([name, s]) => [
    name,
    parseSection(s, props, ctx, issues),
  ])
  return issues.length > 0 ? undefined : (Object.fromEntries(entries) as ParsedSections)
}

/** Reads, validates (zod) and shapes one section; problems go to `issues`. */
function parseSection<F extends Fields, T>(
  s: Section<F, T>,
  props: ResolvedProperties,
  ctx: SectionContext,
  issues: ConfigIssue[],
): T | undefined {
  const raw = Object.fromEntries(Object.entries(s.fields).map(([name, f]) => [name, read(f, props)]))
  // each section is parsed once per process: zod's faster path for objects would first generate and compile
  // a parser of its own for each (new Function, about 9 ms of a start in a profile), which only pays when
  // the same schema parses many times
  const result = s.schema.safeParse(raw, { jitless: true })
  if (!result.success) {
    for (const i of result.error.issues)
      issues.push({ key: s.fields[String(i.path[0])]?.key ?? '', message: i.message })
    return undefined
  }
  const value = result.data
  if (!s.finish) return value as unknown as T
  const before = issues.length
  const shaped = s.finish(value, ctx, (key, message) => issues.push({ key, message }))
  return issues.length > before ? undefined : shaped
}

function read(f: Field<unknown>, props: ResolvedProperties): unknown {
  if (f.objects) return props.objects(f.key, f.objects)
  return f.list ? props.list(f.key) : props.get(f.key)
}
