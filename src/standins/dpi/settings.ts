/**
 * What the DPI access point stand-in is configured with (docs/dpi-standin.md, "Settings"): the simulated
 * delays of the chain behind the access point, the print provider KRR names, and the ServiceRegistry
 * whose business certificates decide whose signature is trusted.
 */
export interface DpiSettings {
  /** the ServiceRegistry (`GET {url}/virksert/{orgnr}`): a business message must be signed with that certificate */
  serviceRegistryUrl: string
  /** from OPPRETTET to SENDT: the simulated handover to the receiver's access point (C3) */
  handoverDelayMs: number
  /** print: from the mottakskvittering to the leveringskvittering (ready for posting) */
  printDelayMs: number
  /** print: a returpostkvittering this long after the leveringskvittering; null: letters are never returned */
  printReturnAfterMs: number | null
  /** the print provider KRR's `printSertifikat` names (an organisation with a generated credential) */
  printProvider: string
  /** `page_size` of `GET /messages/in` when the caller gives none */
  defaultPageSize: number
  /** a larger `dokumentpakke` is refused with 413 while it streams (DPI allows 50 MB of documents) */
  maxPackageBytes: number
}

/** the catalogue's print service (sandbox/catalog.json, `settings.dpi.printProvider`) */
export const SANDBOX_PRINT_PROVIDER = '910085379'

export const DEFAULT_SETTINGS: DpiSettings = {
  serviceRegistryUrl: 'http://127.0.0.1:9099',
  handoverDelayMs: 500,
  printDelayMs: 1000,
  printReturnAfterMs: null,
  printProvider: SANDBOX_PRINT_PROVIDER,
  defaultPageSize: 100,
  maxPackageBytes: 100 * 1024 * 1024,
}
