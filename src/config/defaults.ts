// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring ${placeholder} syntax is the subject here
/**
 * Built-in defaults: the values of the reference's `config/application.properties` (v4) and of its
 * `application-{dev,staging,production}.properties`, for the `difi.*` keys and the few Spring keys the
 * reference maps them onto. Logging, JPA, Liquibase, Hikari and actuator plumbing are left out (we have none
 * of them). Placeholders resolve like any other, so `difi.move.dpo.default-ttl-hours` follows `difi.move.nextmove.default-ttl-hours` as in the
 * reference. A default whose placeholder cannot be resolved (e.g. `difi.move.oidc.keystore.path` while
 * `difi.move.org.keystore.path` is unset) is simply absent, as if the reference had not defined it.
 *
 * Where we differ from the reference, the entry says so (see docs/configuration.md).
 */
export const BASE_DEFAULTS: Readonly<Record<string, string>> = {
  'server.port': '9093',
  // Tomcat's defaults under Spring Boot; ours: a limit on the time to send the headers (slow clients)
  'server.tomcat.connection-timeout': '60s',
  'server.tomcat.keep-alive-timeout': '${server.tomcat.connection-timeout}',
  'difi.move.http.headers-timeout-ms': '20000',
  // TLS on the API: on by default since the reference's v4 (MOVE-3706). The reference maps difi.ssl.* onto
  // server.ssl.*; we read difi.ssl.* and let server.ssl.*, when an operator set it, stand in for it.
  'difi.ssl.enabled': '${server.ssl.enabled:true}',
  // ours: PKCS12 (the reference says JKS, but Node reads only PKCS#12; Java's JKS type reads PKCS#12 too)
  'difi.ssl.key-store-type': '${server.ssl.key-store-type:PKCS12}',
  'difi.ssl.key-store': '${server.ssl.key-store:}',
  'difi.ssl.key-store-password': '${server.ssl.key-store-password:}',
  'difi.ssl.key-alias': '${server.ssl.key-alias:}',
  // HTTP Basic on /api: on by default since v4 (difi.move.feature.enable-auth=${difi.security.enable:true})
  'difi.security.enable': '${difi.move.feature.enable-auth:true}',
  'difi.security.user.name': '${spring.security.user.name:}',
  'difi.security.user.password': '${spring.security.user.password:}',
  // ours: embedded SQLite replaces the reference's H2 file; no `sa` user (an H2 convention)
  'difi.datasource.url': '${spring.datasource.url:jdbc:sqlite:integrasjonspunkt.sqlite}',
  'difi.datasource.username': '${spring.datasource.username:}',
  'difi.datasource.password': '${spring.datasource.password:}',
  'spring.servlet.multipart.max-file-size': '500MB',
  'spring.servlet.multipart.max-request-size': '500MB',
  'management.endpoints.web.base-path': '/manage',

  'difi.move.identifier.synthetic.allow': 'false',
  'difi.move.serviceregistryEndpoint': 'https://test.eformidling.no/adressetjeneste',
  // ours: the ServiceRegistry client's timeout and answer cache
  'difi.move.serviceregistry.timeout-ms': '10000',
  'difi.move.serviceregistry.cache-ttl-seconds': '300',
  'difi.move.sign.enable': 'true',
  'difi.move.sign.jwkUrl': '${difi.move.serviceregistryEndpoint}/jwk',

  'difi.move.org.keystore.type': 'PKCS12',
  'difi.move.org.keystore.lockProvider': 'false',

  'difi.move.arkivmelding.default-process': 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
  'difi.move.arkivmelding.dpv-default-process': '${difi.move.arkivmelding.default-process}',
  'difi.move.arkivmelding.default-document-type': 'urn:no:difi:arkivmelding:xsd::arkivmelding',
  'difi.move.arkivmelding.receipt-process': 'urn:no:difi:profile:arkivmelding:response:ver1.0',
  'difi.move.arkivmelding.receipt-document-type': 'urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering',
  'difi.move.arkivmelding.generate-arkivmelding-receipts': 'true',
  'difi.move.avtalt.receipt-process': 'urn:no:difi:profile:avtalt:response:ver1.0',
  'difi.move.einnsyn.default-journal-process': 'urn:no:difi:profile:einnsyn:journalpost:ver1.0',
  'difi.move.einnsyn.default-journal-document-type': 'urn:no:difi:einnsyn:xsd::publisering',
  'difi.move.einnsyn.default-innsynskrav-process': 'urn:no:difi:profile:einnsyn:innsynskrav:ver1.0',
  'difi.move.einnsyn.default-innsynskrav-document-type': 'urn:no:difi:einnsyn:xsd::innsynskrav',
  'difi.move.einnsyn.receipt-process': 'urn:no:difi:profile:einnsyn:response:ver1.0',

  'difi.move.dpo.brokerserviceUrl': 'https://platform.tt02.altinn.no/broker/api/v1',
  'difi.move.dpo.altinnTokenExchangeUrl':
    'https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten',
  'difi.move.dpo.resource': 'eformidling-dpo-meldingsutveksling',
  'difi.move.dpo.systemName': '${difi.move.org.number}_integrasjonspunkt',
  'difi.move.dpo.systemUser.orgId': '0192:${difi.move.org.number}',
  'difi.move.dpo.systemUser.name':
    '${difi.move.org.number}_integrasjonspunkt_systembruker_${difi.move.org.number}',
  'difi.move.dpo.systemRegisterUrl': 'https://platform.tt02.altinn.no/authentication/api/v1',
  'difi.move.dpo.connectTimeout': '3000',
  'difi.move.dpo.requestTimeout': '30000',
  'difi.move.dpo.upload-size-limit': '1GB',
  'difi.move.dpo.pollingrate': '15000',
  'difi.move.nextmove.send-concurrency': '10',
  'difi.move.nextmove.retry.initial-interval-ms': '20000',
  'difi.move.nextmove.retry.max-interval-ms': '3600000',
  'difi.move.nextmove.job-lease-ms': '60000',
  'difi.move.nextmove.max-compression-ratio': '100',
  'difi.move.dpo.default-ttl-hours': '${difi.move.nextmove.default-ttl-hours}',

  'difi.move.dpv.correspondenceServiceUrl': 'https://test.eformidling.no/altinn-proxy/correspondence/api/v1',
  'difi.move.dpv.altinnTokenExchangeUrl':
    'https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten',
  'difi.move.dpv.health-check-url': 'https://platform.tt02.altinn.no/health-probe',
  'difi.move.dpv.notifyEmail': 'true',
  'difi.move.dpv.notifySms': 'true',
  'difi.move.dpv.email-subject': 'Melding mottatt i Altinn',
  'difi.move.dpv.daysToReply': '7',
  'difi.move.dpv.upload-size-limit': '250MB',
  'difi.move.dpv.enableDueDate': 'true',
  'difi.move.dpv.default-ttl-hours': '${difi.move.nextmove.default-ttl-hours}',
  'difi.move.dpv.sensitiveResource': 'eformidling-dpv-taushetsbelagt',
  // the reference's texts (docs.digdir.no, "Transformasjon fra digital_dpv til Altinn Digital Post"): Altinn
  // replaces $correspondenceRecipientName$, the integration point $reporterName$ (the sender's name)
  'difi.move.dpv.notification-text':
    '$correspondenceRecipientName$: Du har mottatt en melding fra $reporterName$.',
  'difi.move.dpv.sensitive-notification-text':
    '$correspondenceRecipientName$, har mottatt en taushetsbelagt melding fra $reporterName$. For å få tilgang til meldingen, er det nødvendig at noen i $correspondenceRecipientName$ har fått tildelt rollen "Taushetsbelagt post fra det offentlige" i Altinn. Dersom dere er usikre på om noen har slik tilgang, anbefaler vi sterkt at dette sjekkes. Les mer om å gi tilgang til rollen "Taushetsbelagt post" på Altinns nettsider.',
  // ours: the reference polls every status-polled service on difi.move.nextmove.statusPollingCron (each minute)
  'difi.move.dpv.status-pollingrate': '60000',
  // ours: the reference's DPV client sets no timeout at all
  'difi.move.dpv.requestTimeout': '30000',

  'difi.move.dpi.mpcId': 'no_difi_move_integrasjonspunkt',
  'difi.move.dpi.mpcConcurrency': '1',
  'difi.move.dpi.pollWithoutAvsenderidentifikator': 'true',
  'difi.move.dpi.language': 'NO',
  'difi.move.dpi.priority': 'NORMAL',
  'difi.move.dpi.printSettings.returnType': 'SHREDDING',
  'difi.move.dpi.printSettings.inkType': 'BLACK_WHITE',
  'difi.move.dpi.printSettings.shippingType': 'ECONOMY',
  'difi.move.dpi.upload-size-limit': '50MB',
  'difi.move.dpi.krr-print-url': 'https://test.kontaktregisteret.no/rest/v2/printSertifikat',
  'difi.move.dpi.uri': 'https://sandbox1.ediex.no/api/v2/dpi',
  'difi.move.dpi.certificate.mode': 'TEST',
  'difi.move.dpi.timeout.connect': '5000',
  'difi.move.dpi.timeout.read': '60000',
  'difi.move.dpi.timeout.write': '60000',
  'difi.move.dpi.oidc.scopes': 'digitalpostinnbygger:send',
  'difi.move.dpi.default-ttl-hours': '${difi.move.nextmove.default-ttl-hours}',
  'difi.move.dpi.pollingrate': '10000',
  'difi.move.dpi.pageSize': '100',
  // the reference's default; `file` is refused at start
  'difi.move.dpi.c2-type': 'web',
  // ours: the reference asks about sent messages on difi.move.nextmove.statusPollingCron, each minute
  'difi.move.dpi.status-pollingrate': '60000',

  'difi.move.dph.uri': 'https://test.eformidling.no/nhn-adapter/api',
  'difi.move.dph.upload-size-limit': '18MB',
  'difi.move.dph.pollingrate': '30000',
  'difi.move.dph.timeout.connect': '3000',
  'difi.move.dph.timeout.read': '30000',
  'difi.move.dph.timeout.write': '30000',
  'difi.move.dph.certificate.mode': 'TEST',
  'difi.move.dph.default-ttl-hours': '${difi.move.nextmove.default-ttl-hours}',
  'difi.move.dph.oidc.scopes[0]': 'eformidling:dph',
  'difi.move.dph.nhn-process': 'urn:no:difi:profile:helse:helse:ver1.0',
  'difi.move.dph.dialogmelding-document-type': 'urn:no:difi:helse:xsd:schema::dialogmelding',
  'difi.move.dph.receipt-process': 'urn:no:difi:profile:helse:response:ver1.0',
  'difi.move.dph.receipt-document-type': 'urn:no:difi:helse:xsd::dialogmelding_kvittering',

  'difi.move.fiks.inn.enable': '${difi.move.feature.enableDPF}',
  'difi.move.fiks.inn.baseUrl': 'https://test.svarut.ks.no/tjenester/svarinn',
  'difi.move.fiks.inn.process': 'urn:no:difi:profile:arkivmelding:administrasjon:ver1.0',
  'difi.move.fiks.inn.document-type': 'urn:no:difi:arkivmelding:xsd::arkivmelding',
  'difi.move.fiks.inn.connectTimeout': '10000',
  'difi.move.fiks.inn.readTimeout': '30000',
  'difi.move.fiks.inn.orgnr': '${difi.move.org.number}',
  'difi.move.fiks.inn.fallback-sender-org-nr': '999999999',
  'difi.move.fiks.pollingrate': '900000',
  'difi.move.fiks.ut.endpointUrl': 'https://test.svarut.ks.no',
  'difi.move.fiks.ut.kun-digital-levering': 'false',
  'difi.move.fiks.ut.upload-size-limit': '1GB',
  'difi.move.fiks.ut.default-ttl-hours': '${difi.move.nextmove.default-ttl-hours}',
  // ours: rest (the reference: ws). SOAP stops working on 2026-12-31; an explicit ws is refused at start
  'difi.move.fiks.ut.type': 'rest',
  'difi.move.fiks.ut.ws.endpointUrl':
    '${difi.move.fiks.ut.endpointUrl}/tjenester/forsendelseservice/ForsendelsesServiceV9',
  'difi.move.fiks.ut.rest.endpointUrl': '${difi.move.fiks.ut.endpointUrl}',
  'difi.move.fiks.ut.rest.maskinporten.scopes': 'ks:fiks',
  'difi.move.fiks.ut.rest.maskinporten.audience': '${difi.move.oidc.audience}',
  'difi.move.fiks.ut.rest.maskinporten.token-uri': '${difi.move.oidc.url}',
  'difi.move.fiks.kryptert': 'true',
  // ours: KS advises a 16-minute read timeout for large files (SvarUt gives up after about 15)
  'difi.move.fiks.ut.requestTimeout': '960000',
  // ours: the reference's status poll is the shared cron, each minute
  'difi.move.fiks.ut.status-pollingrate': '60000',

  'difi.move.deadlock.retryCount': '5',
  'difi.move.deadlock.delay': '1000',

  'difi.move.feature.enableQueue': 'true',
  'difi.move.feature.forwardReceivedAppReceipts': 'true',
  'difi.move.feature.enableReceipts': 'true',
  'difi.move.feature.mailErrorStatus': 'false',
  'difi.move.feature.retryOnDeadLock': 'true',
  'difi.move.feature.cryptoMessagePersister': 'true',
  'difi.move.feature.enableDsfPrintLookup': 'true',
  // no entry in the reference's file; false is the Java field's default
  'difi.move.feature.enableBetaFeatures': 'false',
  'difi.move.feature.allowDeprecatedTrailingSlash': 'false',
  // ours: every service (the reference: none, so peek always answered 204 until configured)
  'difi.move.feature.statusQueueIncludes': 'DPO,DPV,DPI,DPF,DPE,DPH',
  'difi.move.feature.enableDPO': 'false',
  'difi.move.feature.enableDPH': 'false',
  'difi.move.feature.enableDPV': 'false',
  'difi.move.feature.enableDPI': 'false',
  'difi.move.feature.enableDPF': 'false',
  'difi.move.feature.enableDPE': 'false',

  'difi.move.oidc.enable': 'true',
  'difi.move.oidc.url': 'https://test.maskinporten.no/token',
  'difi.move.oidc.audience': 'https://test.maskinporten.no/',
  'difi.move.oidc.clientIdPrefix': 'MOVE_IP_',
  'difi.move.oidc.clientId': '${difi.move.oidc.clientIdPrefix}${difi.move.org.number}',
  'difi.move.oidc.connectTimeout': '5000',
  'difi.move.oidc.readTimeout': '30000',
  'difi.move.oidc.keystore.path': '${difi.move.org.keystore.path}',
  'difi.move.oidc.keystore.alias': '${difi.move.org.keystore.alias}',
  'difi.move.oidc.keystore.password': '${difi.move.org.keystore.password}',
  'difi.move.oidc.keystore.type': '${difi.move.org.keystore.type}',

  'difi.move.nextmove.use-db-persistence': 'true',
  'difi.move.nextmove.default-ttl-hours': '24',
  'difi.move.nextmove.apply-zip-header-patch': 'false',
  'difi.move.nextmove.filedir': 'messages',
  'difi.move.nextmove.lockTimeoutMinutes': '5',
  'difi.move.nextmove.status-document-type': 'urn:no:difi:eformidling:xsd::status',
  'difi.move.nextmove.serviceBus.enable': '${difi.move.feature.enableDPE}',
  'difi.move.nextmove.serviceBus.sasKeyName': 'MoveDPE-pilotPolicy',
  'difi.move.nextmove.serviceBus.mode': 'innsyn',
  'difi.move.nextmove.serviceBus.baseUrl': 'efm-dpe-qa.servicebus.windows.net',
  'difi.move.nextmove.serviceBus.useHttps': 'true',
  'difi.move.nextmove.serviceBus.pollingrate': '20000',
  'difi.move.nextmove.serviceBus.readMaxMessages': '50',
  'difi.move.nextmove.serviceBus.batchRead': 'false',
  'difi.move.nextmove.serviceBus.connectTimeout': '15000',
  'difi.move.nextmove.serviceBus.default-ttl-hours': '${difi.move.nextmove.default-ttl-hours}',
  'difi.move.nextmove.ttlPollingrate': '30000',
  'difi.move.nextmove.service-bus.upload-size-limit': '2MB',
  'difi.move.nextmove.status-services': 'DPO,DPE',
  'difi.move.nextmove.statusPollingCron': '0 * * * * *',
  'difi.move.nextmove.statusPollingPageSize': '2000',
  'difi.move.nextmove.statusPollingBackoffThresholdDays': '30',
  'difi.move.nextmove.statusPollingBackoffMaxIntervalMinutes': '60',

  'difi.move.ntp.disable': 'false',
  'difi.move.ntp.host': 'time.google.com',
  'difi.move.queue.maximum-retry-hours': '100',
  'difi.move.queue.concurrency': '10',
  'difi.move.webhooks.connectTimeout': '10000',
  'difi.move.webhooks.readTimeout': '10000',
  // ours: deliveries are retried (the reference tries once) and given up after this long
  'difi.move.webhooks.maximum-retry-hours': '24',
  // ours: empty allows every host, as the reference
  'difi.move.webhooks.allowed-hosts': '',
  // ours: issue 6 (docs/operations.md)
  'logging.format': 'json',
  'logging.level.root': 'INFO',
  'difi.move.retention.days': '0',
  'difi.move.retention.batch-size': '200',
  'difi.move.retention.pollingrate': '3600000',
  'difi.move.shutdown.grace-period-ms': '10000',
}

/** The profiles the reference ships, with what each changes (`spring.profiles.active`). */
export const PROFILE_DEFAULTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  dev: {
    'difi.move.identifier.synthetic.allow': 'true',
    'difi.move.serviceregistryEndpoint': 'https://eformidling.dev/adressetjeneste',
    'difi.move.oidc.clientId': 'test_move',
    'difi.move.dpi.mpcId': 'no_difi_move_integrasjonspunkt-dev',
    'difi.move.fiks.pollingrate': '15000',
    'difi.move.nextmove.serviceBus.pollingrate': '5000',
  },
  staging: {
    'difi.move.identifier.synthetic.allow': 'true',
    'difi.move.feature.enableBetaFeatures': 'true',
    'difi.move.serviceregistryEndpoint': 'https://test.eformidling.no/adressetjeneste',
    'difi.move.dpi.mpcId': 'no_difi_move_integrasjonspunkt-staging',
    'difi.move.arkivmelding.generate-arkivmelding-receipts': 'false',
    'difi.move.dph.uri': 'https://test.eformidling.no/nhn-adapter/api',
  },
  production: {
    'difi.move.serviceregistryEndpoint': 'https://eformidling.no/adressetjeneste',
    'difi.move.fiks.inn.baseUrl': 'https://svarut.ks.no/tjenester/svarinn',
    'difi.move.fiks.ut.endpointUrl': 'https://svarut.ks.no',
    'difi.move.feature.enableDPE': 'true',
    'difi.move.dpo.brokerserviceUrl': 'https://platform.altinn.no/broker/api/v1',
    'difi.move.dpo.altinnTokenExchangeUrl':
      'https://platform.altinn.no/authentication/api/v1/exchange/maskinporten',
    'difi.move.dpo.systemRegisterUrl': 'https://platform.altinn.no/authentication/api/v1',
    'difi.move.oidc.url': 'https://maskinporten.no/token',
    'difi.move.oidc.audience': 'https://maskinporten.no/',
    'difi.move.nextmove.service-bus.sas-key-name': 'MoveDPE-prodPolicy',
    'difi.move.nextmove.service-bus.base-url': 'efm-dpe-prod.servicebus.windows.net',
    'difi.move.dpi.uri': 'https://edi.edigard.com/api/v2/dpi',
    'difi.move.dpi.krr-print-url': 'https://kontaktregisteret.no/rest/v2/printSertifikat',
    'difi.move.dpi.certificate.mode': 'PRODUCTION',
    'difi.move.dpi.mpcId': 'no.difi.move.integrasjonspunkt',
    'difi.move.dpv.correspondenceServiceUrl': 'https://eformidling.no/altinn-proxy/correspondence/api/v1',
    'difi.move.dpv.altinnTokenExchangeUrl':
      'https://platform.altinn.no/authentication/api/v1/exchange/maskinporten',
    'difi.move.dpv.health-check-url': 'https://platform.altinn.no/health-probe/',
    'difi.move.arkivmelding.generate-arkivmelding-receipts': 'false',
    'difi.move.dph.uri': 'https://eformidling.no/nhn-adapter/api',
    'difi.move.dph.certificate.mode': 'PRODUCTION',
  },
}

/**
 * Keys we read that have no default, so that their legacy environment spelling (dashes as underscores,
 * e.g. `DIFI_SSL_KEY_STORE`) binds too.
 */
export const KEYS_WITHOUT_DEFAULT: readonly string[] = [
  'spring.profiles.active',
  'server.address',
  'server.ssl.enabled',
  'server.ssl.key-store',
  'server.ssl.key-store-type',
  'server.ssl.key-store-password',
  'server.ssl.key-alias',
  'difi.move.feature.enable-auth',
  'difi.move.org.number',
  'difi.move.org.keystore.path',
  'difi.move.org.keystore.password',
  'difi.move.org.keystore.alias',
  'difi.move.dpo.message-channel',
  'difi.move.dpo.reportees',
  'difi.move.dph.her-ids',
  'difi.move.dpi.mpcIdListe',
  'difi.move.dpi.avsenderidentifikatorListe',
  'difi.move.fiks.ut.rest.kontoid',
  'difi.move.fiks.ut.rest.integrasjon-id',
  'difi.move.fiks.ut.rest.integrasjon-passord',
  'difi.move.fiks.ut.konteringsKode',
  'difi.move.fiks.ut.ekskluderes-fra-print',
  'difi.move.fiks.inn.username',
  'difi.move.fiks.inn.password',
  'difi.move.nextmove.serviceBus.sasToken',
  'difi.move.nextmove.serviceBus.receiptQueue',
]
