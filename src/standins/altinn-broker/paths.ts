// Where the Altinn stand-in serves what: the integration point's channel points its properties here, so
// this module is all it loads of the stand-in.

/** the Broker API's base path, as Altinn's */
export const BROKER_BASE = '/broker/api/v1'
/** Altinn's exchange of a Maskinporten token for an Altinn token */
export const EXCHANGE_PATH = '/authentication/api/v1/exchange/maskinporten'
/** the stand-in's Maskinporten token endpoint */
export const MASKINPORTEN_PATH = '/maskinporten/token'
/** Altinn's Correspondence API (DPV), as a caller with Altinn's own scopes reaches it */
export const CORRESPONDENCE_BASE = '/correspondence/api/v1'
/** the same through Digdir's proxy, the base the integration point's `difi.move.dpv.correspondenceServiceUrl` names */
export const PROXY_CORRESPONDENCE_BASE = '/altinn-proxy/correspondence/api/v1'
/** Altinn's health probe, which the integration point asks at start-up when DPV is enabled */
export const HEALTH_PROBE_PATH = '/health-probe'
