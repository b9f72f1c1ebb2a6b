// Where the Altinn stand-in serves what: the integration point's channel points its properties here, so
// this module is all it loads of the stand-in.

/** the Broker API's base path, as Altinn's */
export const BROKER_BASE = '/broker/api/v1'
/** Altinn's exchange of a Maskinporten token for an Altinn token */
export const EXCHANGE_PATH = '/authentication/api/v1/exchange/maskinporten'
/** the stand-in's Maskinporten token endpoint */
export const MASKINPORTEN_PATH = '/maskinporten/token'
