/** The reference's `ReceiptStatus` values and what each does to its conversation (§7.1, §7.2). */
export const RECEIPT_STATUSES = [
  'OPPRETTET',
  'SENDT',
  'MOTTATT',
  'LEVERT',
  'LEST',
  'FEIL',
  'ANNET',
  'INNKOMMENDE_MOTTATT',
  'INNKOMMENDE_LEVERT',
  'LEVETID_UTLOPT',
] as const

export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number]

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
