// What a SvarUt forsendelse status says about our message. The reference reads LEST only; we also
// report what it ignores: a forsendelse SvarUt could not deliver (FEIL) and one sent to print (ANNET).
// Pure; the status poller registers the update once and stops polling a final one.

export interface SvarUtStatusUpdate {
  status: 'LEST' | 'FEIL' | 'ANNET'
  description?: string
  /** nothing later can change it: stop asking */
  final: boolean
}

const FAILED: Record<string, string> = {
  AVVIST: 'SvarUt avviste forsendelsen (manglende eller ugyldige metadata, eller filen kunne ikke lages)',
  IKKE_LEVERT: 'SvarUt kunne ikke levere forsendelsen, som bare skulle leveres digitalt',
  FEILET_UNDER_MOTTAK: 'SvarUt feilet under mottak av forsendelsen',
}

const OTHER: Record<string, { description: string; final: boolean }> = {
  // printing follows; PRINTET may come later
  SENDT_PRINT: { description: 'SvarUt har sendt forsendelsen til utskrift', final: false },
  PRINTET: { description: 'SvarUt har skrevet ut forsendelsen og sendt den som brev', final: true },
  MANUELT_HANDTERT: { description: 'Forsendelsen er håndtert manuelt i SvarUt', final: true },
  SLETTET: { description: 'Forsendelsens dokumenter er slettet i SvarUt', final: true },
}

/**
 * The update a status calls for, or null when it says nothing new (MOTTATT, AKSEPTERT, KLAR_FOR_MOTTAK,
 * VARSLET, SENDT_DIGITALT, SENDT_SDP, LEVERT_SDP, the NHN statuses, and any status SvarUt adds later).
 */
export function svarUtStatusUpdate(status: string): SvarUtStatusUpdate | null {
  if (status === 'LEST') return { status: 'LEST', final: true }
  const failed = FAILED[status]
  if (failed !== undefined)
    return { status: 'FEIL', description: `SvarUt: ${status}: ${failed}`, final: true }
  const other = OTHER[status]
  if (other !== undefined)
    return { status: 'ANNET', description: `SvarUt: ${status}: ${other.description}`, final: other.final }
  return null
}
