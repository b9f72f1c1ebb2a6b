// What stops an integration point with DPF enabled from starting: the channel's configErrors returns these.

import type { Config } from '../../config/types.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Each problem names its property and says how to fix it. */
export function fiksConfigErrors(config: Config): string[] {
  const { type, ut, inn } = config.fiks
  if (type === 'ws')
    return [
      "difi.move.fiks.ut.type is ws, but SvarUt's SOAP API (ForsendelsesServiceV9) is retired (it stops working " +
        'on 2026-12-31) and this integration point speaks only SvarUt REST v3: set difi.move.fiks.ut.type=rest ' +
        'with difi.move.fiks.ut.rest.kontoid, integrasjon-id and integrasjon-passord, or disable DPF',
    ]
  const errors: string[] = []
  // as the reference, which fails its start when the konto id is not a UUID
  if (ut.kontoId === null)
    errors.push(
      'DPF is enabled but difi.move.fiks.ut.rest.kontoid is empty: set it to the SvarUt account (a UUID) ' +
        'messages are sent from, or disable DPF',
    )
  else if (!UUID.test(ut.kontoId))
    errors.push(`difi.move.fiks.ut.rest.kontoid must be a UUID, got ${JSON.stringify(ut.kontoId)}`)
  if (ut.integrasjonId === null || ut.integrasjonPassord === null)
    errors.push(
      'DPF is enabled but difi.move.fiks.ut.rest.integrasjon-id or integrasjon-passord is empty: set both ' +
        "to the Fiks integration's id and password (Fiks Forvaltning), or disable DPF",
    )
  if (ut.konteringskode !== null && !/^[a-zA-Z0-9_\-.øæåØÆÅ]{1,20}$/.test(ut.konteringskode))
    errors.push(
      'difi.move.fiks.ut.konteringsKode must be at most 20 letters, digits, "_", "-" or "." (SvarUt refuses ' +
        `anything else), got ${JSON.stringify(ut.konteringskode)}`,
    )
  if (inn.enable && (inn.username === null || inn.password === null))
    errors.push(
      'difi.move.fiks.inn.enable is true but difi.move.fiks.inn.username or password is empty: set both to ' +
        "the SvarInn mottakersystem's username and service password, or set difi.move.fiks.inn.enable=false",
    )
  if (inn.enable && !/^\d{9}$/.test(inn.orgnr))
    errors.push(`difi.move.fiks.inn.orgnr must be 9 digits, got ${JSON.stringify(inn.orgnr)}`)
  if (!/^\d{9}$/.test(inn.fallbackSenderOrgNr))
    errors.push(
      `difi.move.fiks.inn.fallback-sender-org-nr must be 9 digits, got ${JSON.stringify(inn.fallbackSenderOrgNr)}`,
    )
  return errors
}
