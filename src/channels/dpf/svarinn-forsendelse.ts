// A forsendelse as SvarInn's hentNyeForsendelser lists it, checked once at the edge: what the mapping
// needs must be there (the reference dereferences mottaker.orgnr, svarSendesTil, the metadata and
// filmetadata, and fails on each forsendelse that lacks one, every poll); anything else is ignored.

import { z } from 'zod'
import { documentNameKey, documentNameProblem } from '../../packaging/document-names.js'
import { ARKIVMELDING_FILE } from '../../sbd/files.js'

/** A forsendelse that can never be taken in as it is: report it with mottakFeilet, do not fetch it again. */
export class SvarInnForsendelseError extends Error {}

// SvarInn writes some numbers as JSON numbers, some as text, and leaves out or nulls what it lacks
const num = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d{1,18}$/)
      .transform(Number),
  ])
  .nullish()
const text = z.string().nullish()
const date = z.union([z.number(), z.string()]).nullish()

const address = z.object({
  navn: text,
  orgnr: text,
  fnr: text,
  adresse1: text,
  adresse2: text,
  adresse3: text,
  postnr: text,
  poststed: text,
  land: text,
})

const schema = z.object({
  id: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'not a UUID'),
  tittel: text,
  date: date,
  mottaker: address.extend({ orgnr: z.string().regex(/^\d{9}$/, 'not an organisation number') }),
  svarSendesTil: address,
  metadataFraAvleverendeSystem: z.object({
    sakssekvensnummer: num,
    saksaar: num,
    journalaar: num,
    journalsekvensnummer: num,
    journalpostnummer: num,
    journalposttype: text,
    journalstatus: text,
    journaldato: date,
    dokumentetsDato: date,
    tittel: text,
    saksBehandler: text,
    ekstraMetadata: z.array(z.object({ key: z.string(), value: z.string().nullish() })).nullish(),
  }),
  niva: z.union([z.string(), z.number()]).nullish(),
  filmetadata: z
    .array(
      z.object({
        filnavn: z.string(),
        mimetype: text,
        sha256hash: text,
        size: z.number().nullish(),
      }),
    )
    .min(1, 'no documents'),
  svarPaForsendelse: text,
  forsendelseType: text,
  eksternRef: text,
  downloadUrl: z.string().min(1),
})

export type SvarInnForsendelse = z.infer<typeof schema>

/**
 * One listed forsendelse, or SvarInnForsendelseError saying what is wrong. `id` is read first, so a
 * caller can name the forsendelse it reports even when the rest is bad.
 */
export function parseSvarInnForsendelse(value: unknown): SvarInnForsendelse {
  const result = schema.safeParse(value)
  if (!result.success) {
    const first = result.error.issues[0]!
    throw new SvarInnForsendelseError(
      `SvarInn's forsendelse is unusable: ${first.path.join('.') || 'it'}: ${first.message}`,
    )
  }
  const names = new Set<string>([documentNameKey(ARKIVMELDING_FILE)])
  for (const f of result.data.filmetadata) {
    const problem = documentNameProblem(f.filnavn)
    if (problem !== null)
      throw new SvarInnForsendelseError(
        `its document ${JSON.stringify(f.filnavn)} cannot be kept: ${problem}`,
      )
    const key = documentNameKey(f.filnavn)
    if (names.has(key))
      throw new SvarInnForsendelseError(
        `its document name ${JSON.stringify(f.filnavn)} is used twice or is ${ARKIVMELDING_FILE}`,
      )
    names.add(key)
  }
  return result.data
}

/** The id of a listed forsendelse when it has one, to report one that cannot be parsed. */
export function forsendelseIdOf(value: unknown): string | null {
  const id = (value as { id?: unknown } | null)?.id
  return typeof id === 'string' && id !== '' ? id : null
}
