/**
 * What each of the reference's `ReceiptStatus` values (listed with the SBD rules, where the `status` business
 * message names them) does to its conversation, as the reference's DefaultConversationService registers them.
 */
const FINISHING: ReadonlySet<string> = new Set([
  'LEVERT',
  'LEST',
  'FEIL',
  'LEVETID_UTLOPT',
  'INNKOMMENDE_LEVERT',
])
const STOPS_POLLING: ReadonlySet<string> = new Set(['LEST', 'FEIL', 'LEVETID_UTLOPT', 'INNKOMMENDE_LEVERT'])

export function finishes(status: string): boolean {
  return FINISHING.has(status)
}

export function stopsPolling(status: string): boolean {
  return STOPS_POLLING.has(status)
}

export const LEVETID_UTLOPT_DESCRIPTION = 'Levetiden for meldingen er utgått. Må sendes på nytt'
