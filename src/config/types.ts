import type { ServiceIdentifier } from '../sbd/types.js'

export type ChannelId = Exclude<ServiceIdentifier, 'UNKNOWN'>

/**
 * The integration point's configuration, parsed once from `integrasjonspunkt-local.properties`
 * and the environment, validated and frozen. Property names in comments are the reference's.
 */
export interface Config {
  server: {
    /** server.port (9093) */
    port: number
    /** server.address (all interfaces when empty) */
    host: string
    /**
     * server.tomcat.connection-timeout (60 s, Tomcat's): how long a connection may send nothing while a
     * request is awaited or read (a stalled body included) before it is closed
     */
    idleTimeoutMs: number
    /** server.tomcat.keep-alive-timeout (the connection-timeout, as Spring): an idle kept-alive connection */
    keepAliveTimeoutMs: number
    /** difi.move.http.headers-timeout-ms (ours, 20000): a request's line and headers must be in within this */
    headersTimeoutMs: number
  }
  org: {
    /** difi.move.org.number: exactly 9 digits, required */
    number: string
    /** difi.move.org.keystore.* (used by the transport issues; read and kept here) */
    keystore: { path: string | null; password: string | null; alias: string | null; type: string }
  }
  serviceRegistry: {
    /** difi.move.serviceregistryEndpoint, no trailing slash */
    endpoint: string
    /** difi.move.sign.enable (true) */
    signEnable: boolean
    /** difi.move.sign.jwkUrl (${serviceregistryEndpoint}/jwk) */
    jwkUrl: string
    /** difi.move.serviceregistry.timeout-ms (ours, 10000): connect + answer */
    timeoutMs: number
    /** difi.move.serviceregistry.cache-ttl-seconds (ours, 300 as the reference's cache) */
    cacheTtlSeconds: number
    /** difi.move.feature.enableDsfPrintLookup (true): false sends print=false */
    printLookup: boolean
    /** difi.move.feature.enableBetaFeatures (false): sends X-Enable-Beta-Features: true */
    betaFeatures: boolean
  }
  security: {
    /** difi.security.enable (true): HTTP Basic on /api/** */
    enable: boolean
    /** difi.security.user.name (`user` when unset, as Spring) */
    username: string
    /** difi.security.user.password: required when security is enabled */
    password: string | null
  }
  ssl: {
    /** difi.ssl.enabled (true, as the reference v4) */
    enabled: boolean
    /** difi.ssl.key-store: a PKCS#12 file, required when enabled */
    keyStore: string | null
    keyStorePassword: string | null
    keyStoreType: string
    keyAlias: string | null
  }
  datasource: {
    /** difi.datasource.url: jdbc:sqlite:PATH, jdbc:postgresql://HOST:PORT/DB or postgres://… */
    url: string
    username: string | null
    password: string | null
  }
  nextmove: {
    /** difi.move.nextmove.filedir (messages): where payloads are stored */
    filedir: string
    /** difi.move.nextmove.lockTimeoutMinutes (5) */
    lockTimeoutMinutes: number
    /** difi.move.nextmove.default-ttl-hours (24) */
    defaultTtlHours: number
    /** difi.move.nextmove.status-services (DPO,DPE) */
    statusServices: ChannelId[]
    /** difi.move.nextmove.ttlPollingrate (30000 ms) */
    ttlPollingRateMs: number
    /** difi.move.nextmove.max-compression-ratio (ours, 100): what a received zip entry may inflate per compressed byte */
    maxCompressionRatio: number
    /**
     * difi.move.nextmove.use-db-persistence (true): payloads in the database; null when left at the
     * default, which means the database on PostgreSQL and files on SQLite (src/files/choose-store.ts)
     */
    useDbPersistence: boolean | null
  }
  /** per service default TTL in hours: difi.move.{dpo,dpv,dpi,dph}.default-ttl-hours, difi.move.fiks.ut.default-ttl-hours, difi.move.nextmove.serviceBus.default-ttl-hours */
  ttlHours: Record<ChannelId, number>
  /** per service total upload limit in bytes: difi.move.dpo.upload-size-limit (1GB), dpv (250MB), dpi (50MB), fiks.ut (1GB), nextmove.service-bus (2MB), dph (18MB) */
  uploadSizeLimit: Record<ChannelId, number>
  features: {
    /** difi.move.feature.enableDPO|DPV|DPI|DPF|DPE|DPH (all false) */
    enabled: Record<ChannelId, boolean>
    /** which of those the operator set (file, environment, overrides) rather than a default or a profile */
    explicit: Record<ChannelId, boolean>
    /** difi.move.feature.statusQueueIncludes (ours: every service; the reference: none) */
    statusQueueIncludes: ChannelId[]
    /** difi.move.feature.enableReceipts (true) */
    enableReceipts: boolean
  }
  arkivmelding: {
    defaultProcess: string
    dpvDefaultProcess: string
    defaultDocumentType: string
    receiptProcess: string
    receiptDocumentType: string
    generateReceipts: boolean
  }
  einnsyn: {
    defaultJournalProcess: string
    defaultInnsynskravProcess: string
    receiptProcess: string
    defaultJournalDocumentType: string
    defaultInnsynskravDocumentType: string
  }
  avtalt: { receiptProcess: string }
  dpo: {
    /** difi.move.dpo.message-channel: ≤25 chars [a-zA-Z0-9-_], null when unset */
    messageChannel: string | null
    /** difi.move.dpo.brokerserviceUrl: the Altinn 3 Broker API, `…/broker/api/v1` */
    brokerUrl: string
    /** difi.move.dpo.altinnTokenExchangeUrl */
    exchangeUrl: string
    /** difi.move.dpo.resource (eformidling-dpo-meldingsutveksling) */
    resource: string
    /** difi.move.dpo.systemUser.orgId (0192:{orgnr}) */
    systemUserOrgId: string
    /** difi.move.dpo.systemUser.name ({orgnr}_integrasjonspunkt_systembruker_{orgnr}) */
    systemUserName: string
    /** difi.move.dpo.reportees[i].orgId|name: system users of organisations we send and receive for */
    reportees: { orgId: string; name: string }[]
    /** difi.move.dpo.connectTimeout (3000 ms) */
    connectTimeoutMs: number
    /** difi.move.dpo.requestTimeout (30000 ms): an answer, or a pause in a body */
    requestTimeoutMs: number
    /** difi.move.dpo.pollingrate (ours, 15000 ms as the reference's fixed delay) */
    pollingRateMs: number
    /** difi.move.oidc.audience: the Maskinporten audience of the JWT grant */
    maskinportenAudience: string
    /** difi.move.oidc.url when difi.move.oidc.enable (true), else null: the grant goes straight to the exchange */
    maskinportenUrl: string | null
  }
  /** DPV: Altinn 3 Correspondence through Digdir's proxy (docs/configuration.md, "DPV") */
  dpv: {
    /** difi.move.dpv.correspondenceServiceUrl: `…/altinn-proxy/correspondence/api/v1` */
    correspondenceUrl: string
    /** difi.move.dpv.altinnTokenExchangeUrl */
    exchangeUrl: string
    /** difi.move.dpv.health-check-url: asked at start and by /manage/health */
    healthCheckUrl: string
    /** difi.move.dpv.notifyEmail (true) */
    notifyEmail: boolean
    /** difi.move.dpv.notifySms (true) */
    notifySms: boolean
    /** difi.move.dpv.email-subject (Melding mottatt i Altinn) */
    emailSubject: string
    /** difi.move.dpv.notification-text: `$reporterName$` is replaced by the sender's name */
    notificationText: string
    /** difi.move.dpv.sensitive-notification-text: for the sensitive resource */
    sensitiveNotificationText: string
    /** difi.move.dpv.daysToReply (7) */
    daysToReply: number
    /** difi.move.dpv.enableDueDate (true) */
    enableDueDate: boolean
    /** difi.move.dpv.sensitiveResource (eformidling-dpv-taushetsbelagt): sent as isConfidential */
    sensitiveResource: string
    /** difi.move.dpv.status-pollingrate (ours, 60000 ms as the reference's cron) */
    statusPollingRateMs: number
    /** difi.move.dpv.requestTimeout (ours, 30000 ms): an answer, or a pause in a body */
    requestTimeoutMs: number
    /** difi.move.oidc.audience */
    maskinportenAudience: string
    /** difi.move.oidc.url when difi.move.oidc.enable, else null */
    maskinportenUrl: string | null
  }
  /** DPI: digital post to citizens through Digdir's access point (corner 2), `difi.move.dpi.*` (docs/configuration.md, "DPI") */
  dpi: {
    /** difi.move.dpi.uri (`https://sandbox1.ediex.no/api/v2/dpi`; production: Orbyt's): the access point's REST API, no trailing slash */
    uri: string
    /** difi.move.dpi.c2-type (web): `file` (the reference writes the messages into a folder) is refused at start */
    c2Type: 'web' | 'file'
    /** difi.move.dpi.mpcId (no_difi_move_integrasjonspunkt; a profile may change it): the channel (`kanal`) */
    mpcId: string
    /** difi.move.dpi.mpcConcurrency (1): above 1 sends round-robin over `{mpcId}-0` … `{mpcId}-{n-1}` */
    mpcConcurrency: number
    /** difi.move.dpi.mpcIdListe: the channels to round-robin over instead of mpcId and mpcConcurrency; empty when unset */
    mpcIdListe: string[]
    /** difi.move.dpi.pageSize (100): `page_size` of a receipt poll */
    pageSize: number
    /** difi.move.dpi.pollingrate (10000 ms): between receipt polls */
    pollingRateMs: number
    /** difi.move.dpi.avsenderidentifikatorListe: one more receipt poll per channel for each; empty when unset */
    avsenderidentifikatorListe: string[]
    /** difi.move.dpi.pollWithoutAvsenderidentifikator (true): a receipt poll per channel without one */
    pollWithoutAvsenderidentifikator: boolean
    /**
     * difi.move.dpi.timeout.connect|read|write (5000, 60000, 60000 ms): connecting; waiting for an answer or
     * the next bytes of it; the access point taking no more of an upload
     */
    timeouts: { connectMs: number; readMs: number; writeMs: number }
    /** difi.move.dpi.certificate.mode (TEST; production: PRODUCTION), upper case: whose certificates sign receipts */
    certificateMode: string
    /** difi.move.dpi.krr-print-url: the print provider's organisation number and certificate (KRR) */
    krrPrintUrl: string
    /** difi.move.dpi.oidc.scopes (digitalpostinnbygger:send), space-separated: the Maskinporten token's scope */
    scopes: string
    /** difi.move.dpi.language (NO): `spraak` and the manifest's language when neither message nor registry gives one */
    language: string
    /** difi.move.oidc.audience: the Maskinporten audience of the JWT grant */
    maskinportenAudience: string
    /** difi.move.oidc.url when difi.move.oidc.enable, else null (DPI then cannot start) */
    maskinportenUrl: string | null
    /** difi.move.dpi.status-pollingrate (ours, 60000 ms as the reference's status cron): asking the access point about sent messages */
    statusPollingRateMs: number
  }
  /** DPF: KS FIKS SvarUt REST v3 (send) and SvarInn (receive), `difi.move.fiks.*` (docs/configuration.md, "DPF") */
  fiks: {
    /** difi.move.fiks.ut.type (ours: rest; the reference: ws): `ws`, SOAP, is retired and refused at start */
    type: 'rest' | 'ws'
    /** difi.move.fiks.kryptert (true): documents are CMS-encrypted to SvarUt's certificate */
    kryptert: boolean
    ut: {
      /** difi.move.fiks.ut.rest.endpointUrl (${difi.move.fiks.ut.endpointUrl}): SvarUt's host, no `/api` */
      endpointUrl: string
      /** difi.move.fiks.ut.rest.kontoid: the sending account, a UUID */
      kontoId: string | null
      /** difi.move.fiks.ut.rest.integrasjon-id: the Fiks integration's UUID */
      integrasjonId: string | null
      /** difi.move.fiks.ut.rest.integrasjon-passord */
      integrasjonPassord: string | null
      /** difi.move.fiks.ut.konteringsKode: SvarUt's `konteringskode`, null when unset */
      konteringskode: string | null
      /** difi.move.fiks.ut.kun-digital-levering (false) */
      kunDigitalLevering: boolean
      /** difi.move.fiks.ut.ekskluderes-fra-print: file extensions kept out of print, `*` for every one but pdf */
      ekskluderesFraPrint: string[]
      /** difi.move.fiks.ut.rest.maskinporten.scopes (ks:fiks) */
      scopes: string
      /** difi.move.fiks.ut.rest.maskinporten.audience (${difi.move.oidc.audience}) */
      maskinportenAudience: string
      /** difi.move.fiks.ut.rest.maskinporten.token-uri (${difi.move.oidc.url}) when difi.move.oidc.enable, else null */
      maskinportenUrl: string | null
      /** difi.move.fiks.ut.requestTimeout (ours, 960000 ms as KS advises): an answer, or a pause in a body */
      requestTimeoutMs: number
      /** difi.move.fiks.ut.status-pollingrate (ours, 60000 ms) */
      statusPollingRateMs: number
    }
    inn: {
      /** difi.move.fiks.inn.enable (${difi.move.feature.enableDPF}) */
      enable: boolean
      /** difi.move.fiks.inn.baseUrl: `…/tjenester/svarinn` */
      baseUrl: string
      /** difi.move.fiks.inn.username: the SvarInn mottakersystem */
      username: string | null
      /** difi.move.fiks.inn.password */
      password: string | null
      /** difi.move.fiks.inn.process: the process of received messages */
      process: string
      /** difi.move.fiks.inn.document-type: their document type */
      documentType: string
      /** difi.move.fiks.inn.orgnr (${difi.move.org.number}): the receiver polled for */
      orgnr: string
      /** difi.move.fiks.inn.fallback-sender-org-nr (999999999): the sender when svarSendesTil has no orgnr */
      fallbackSenderOrgNr: string
      /** difi.move.fiks.inn.connectTimeout (10000 ms) */
      connectTimeoutMs: number
      /** difi.move.fiks.inn.readTimeout (30000 ms) */
      readTimeoutMs: number
      /** difi.move.fiks.pollingrate (900000 ms; `dev`: 15000) */
      pollingRateMs: number
    }
  }
  /** DPE: eInnsyn over Azure Service Bus's REST API, `difi.move.nextmove.serviceBus.*` (docs/configuration.md, "DPE") */
  serviceBus: {
    /** difi.move.nextmove.serviceBus.baseUrl (efm-dpe-qa.servicebus.windows.net): host, port and path prefix, no scheme */
    baseUrl: string
    /** difi.move.nextmove.serviceBus.useHttps (true): the calls go to `https://` (else `http://`) + baseUrl */
    useHttps: boolean
    /** difi.move.nextmove.serviceBus.sasKeyName (MoveDPE-pilotPolicy; production MoveDPE-prodPolicy), sent as `skn` */
    sasKeyName: string
    /** difi.move.nextmove.serviceBus.sasToken: the SAS key itself, used when the ServiceRegistry is not asked */
    sasToken: string | null
    /** difi.move.oidc.enable (true): the key comes from the ServiceRegistry's `/sastoken`; else sasToken */
    keyFromServiceRegistry: boolean
    /** difi.move.nextmove.serviceBus.mode (innsyn), lower-cased: the suffix of the queue read */
    mode: 'innsyn' | 'data' | 'meeting'
    /** difi.move.nextmove.serviceBus.receiptQueue: the suffix of status and einnsyn_kvittering queues instead of the rule; null when unset */
    receiptQueue: string | null
    /** difi.move.nextmove.serviceBus.readMaxMessages (50): messages peeked per round */
    readMaxMessages: number
    /** difi.move.nextmove.serviceBus.pollingrate (20000 ms; `dev`: 5000) */
    pollingRateMs: number
    /** difi.move.nextmove.serviceBus.connectTimeout (15000 ms): connect, answer and each pause in a body, as the reference */
    connectTimeoutMs: number
    /** difi.move.nextmove.serviceBus.batchRead (false): the reference's AMQP reading; we read over REST either way */
    batchRead: boolean
    /** difi.move.oidc.audience: of the Maskinporten grant for the registry's `/sastoken` (scope eformidling:dpe) */
    maskinportenAudience: string
    /** difi.move.oidc.url when difi.move.oidc.enable, else null (the key is then serviceBus.sasToken) */
    maskinportenUrl: string | null
  }
  /** the outbox workers (ours) */
  jobs: {
    /** difi.move.nextmove.send-concurrency (10, as the reference's queue consumers) */
    concurrency: number
    /** difi.move.nextmove.retry.initial-interval-ms (20000, as the reference's first redelivery) */
    retryInitialMs: number
    /** difi.move.nextmove.retry.max-interval-ms (3600000, as the reference's longest redelivery delay) */
    retryMaxMs: number
    /** difi.move.nextmove.job-lease-ms (60000): how long a crashed instance's running job waits before another takes it */
    leaseMs: number
  }
  /** webhook deliveries (issue 5) */
  webhooks: {
    /** difi.move.webhooks.connectTimeout (10000 ms) */
    connectTimeoutMs: number
    /** difi.move.webhooks.readTimeout (10000 ms): the answer's headers, or a pause in its body */
    readTimeoutMs: number
    /** difi.move.webhooks.maximum-retry-hours (ours, 24): a delivery failing this long is given up */
    maximumRetryHours: number
    /** difi.move.webhooks.allowed-hosts (ours, empty = any host): hosts push endpoints may name */
    allowedHosts: string[]
  }
  dph: {
    /** difi.move.dph.her-ids */
    herIds: string[]
    dialogmeldingDocumentType: string
    nhnProcess: string
  }
  /** the log (ours: `logging.format`; `logging.level.root` as Spring's) */
  logging: {
    /** logging.format (ours, json): `json` lines (pino) or readable `text` lines */
    format: 'json' | 'text'
    /** logging.level.root (INFO), as a pino level (OFF = silent) */
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
  }
  /** removal of finished history (ours; docs/operations.md) */
  retention: {
    /** difi.move.retention.days (0 = off): finished conversations older than this go */
    days: number
    /** difi.move.retention.batch-size (200): rows per short transaction */
    batchSize: number
    /** difi.move.retention.pollingrate (3600000 ms): the pause between rounds */
    intervalMs: number
  }
  shutdown: {
    /** difi.move.shutdown.grace-period-ms (ours, 10000): how long a stop waits for running work before abandoning it */
    gracePeriodMs: number
  }
  /** every property as read (canonical key -> value), for later issues' settings */
  properties: ReadonlyMap<string, string>
}
