/**
 * The business message types of the reference (`MessageType`), in the reference's enum order:
 * lookups by document type (`standard`) take the first type whose `::<type>` ends the standard.
 */
export const MESSAGE_TYPE_NAMES = [
  'status',
  'feil',
  'arkivmelding',
  'arkivmelding_kvittering',
  'avtalt',
  'digital',
  'digital_dpv',
  'print',
  'dialogmelding',
  'dialogmelding_kvittering',
  'innsynskrav',
  'publisering',
  'einnsyn_kvittering',
] as const

export type MessageTypeName = (typeof MESSAGE_TYPE_NAMES)[number]

/** Case-insensitive lookup of a type name, as the reference's `MessageType.valueOfType`. */
export function messageTypeByName(name: string | null | undefined): MessageTypeName | undefined {
  if (typeof name !== 'string') return undefined
  const lower = name.toLowerCase()
  return MESSAGE_TYPE_NAMES.find((t) => t === lower)
}

/** The type a document type (`standard`) names: the first whose `::type` is its suffix. */
export function messageTypeByStandard(standard: string | null | undefined): MessageTypeName | undefined {
  if (typeof standard !== 'string') return undefined
  return MESSAGE_TYPE_NAMES.find((t) => standard.endsWith(`::${t}`))
}
