import { badRequest } from './errors.js'

/**
 * The checks SvarUt applies to an `OrganisasjonForsendelse` that a sender can trigger, from the v3
 * schema (required fields, lengths, patterns, enums) and its described rules: HOYESTE needs encrypted
 * files, only PDFs can be printed, forsendelsestype is one of the predefined types, kanSvareViaEdialog
 * needs an organisation to answer to. `null` is the same as absent (KS's client writes nulls for unset
 * fields). Every problem is reported at once, as `errorJson` {field: message}.
 */
export interface Dokument {
  filnavn: string
  mimeType: string
  skalEkskluderesFraUtskrift: boolean
}

export interface Forsendelse {
  tittel: string
  mottaker: { navn: string; digitalId: string }
  eksternReferanse: string | null
  kryptert: boolean
  kunDigitalLevering: boolean
  niva: 3 | 4
  forsendelsestype: string | null
  dokumenter: Dokument[]
  /** the JSON as sent */
  raw: Record<string, unknown>
}

type Json = Record<string, unknown>

const FILNAVN_FORBIDDEN = /[*:"\\/<>|?]/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const KONTERINGSKODE = /^[a-zA-Z0-9_\-.øæåØÆÅ]{0,20}$/

export function parseForsendelse(text: string, forsendelsestyper: string[]): Forsendelse {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw badRequest(`Forsendelsen er ikke gyldig JSON: ${(error as Error).message}`)
  }
  if (!isObject(raw)) throw badRequest('Forsendelsen må være et JSON-objekt')
  const v = new Checker()
  v.text(raw, 'tittel', 1, 1000, true)
  const mottaker = v.object(raw, 'mottaker', true)
  if (mottaker) {
    v.text(mottaker, 'navn', 1, 100, true, 'mottaker.')
    const id = v.text(mottaker, 'digitalId', 9, 11, true, 'mottaker.')
    if (id !== undefined && !/^[0-9]{9}$/.test(id))
      v.fail(
        'mottaker.digitalId',
        'må være et organisasjonsnummer (9 siffer) for en forsendelse til organisasjon',
      )
    v.adresse(mottaker, 'mottaker.', false)
  }
  for (const f of ['avgivendeSystem', 'avgivendeSystemAktor']) v.text(raw, f, 1, 100, false)
  const konto = v.text(raw, 'konteringskode', 1, 20, false)
  if (konto !== undefined && !KONTERINGSKODE.test(konto))
    v.fail('konteringskode', 'må matche ^[a-zA-Z0-9_\\-.øæåØÆÅ]{0,20}$')
  const kryptert = v.bool(raw, 'kryptert') ?? false
  const kunDigital = v.bool(raw, 'kunDigitalLevering') ?? false
  for (const f of ['kanSvareViaEdialog', 'taushetsbelagtPost']) v.bool(raw, f)
  const niva = v.oneOf(raw, 'sikkerhetsniva', ['BETYDELIG', 'HOYESTE'])
  if (niva === 'HOYESTE' && !kryptert)
    v.fail('kryptert', 'Ved sikkerhetsnivå HOYESTE må dokumentene krypteres før innsending (kryptert=true)')
  const utskrift = v.object(raw, 'utskriftskonfigurasjon', false)
  if (utskrift) v.bool(utskrift, 'tosidig', 'utskriftskonfigurasjon.')
  checkMetadata(v, raw)
  const svar = v.object(raw, 'svarSendesTil', false)
  if (svar) {
    v.text(svar, 'navn', 1, 100, true, 'svarSendesTil.')
    const type = v.oneOf(svar, 'type', ['PERSON', 'ORGANISASJON', 'NHN_MOTTAKER'], 'svarSendesTil.', true)
    const id = v.text(svar, 'digitalId', 1, 11, true, 'svarSendesTil.')
    if (id !== undefined && !/^\d{1,11}$/.test(id)) v.fail('svarSendesTil.digitalId', 'må matche ^\\d{1,11}$')
    v.adresse(svar, 'svarSendesTil.', true)
    if (raw.kanSvareViaEdialog === true && type !== 'ORGANISASJON')
      v.fail('kanSvareViaEdialog', 'krever svarSendesTil av type ORGANISASJON')
  } else if (raw.kanSvareViaEdialog === true) {
    v.fail('kanSvareViaEdialog', 'krever svarSendesTil av type ORGANISASJON')
  }
  const svarPa = v.text(raw, 'svarPaForsendelseId', 36, 36, false)
  if (svarPa !== undefined && !UUID.test(svarPa)) v.fail('svarPaForsendelseId', 'må være en UUID')
  const type = v.text(raw, 'forsendelsestype', 1, 100, false)
  if (type !== undefined && !forsendelsestyper.includes(type))
    v.fail('forsendelsestype', `Ukjent forsendelsestype "${type}": en av ${forsendelsestyper.join(', ')}`)
  const eksternRef = v.text(raw, 'eksternReferanse', 1, 100, false)
  v.text(raw, 'korrelasjonsid', 1, 100, false)
  checkLenker(v, raw)
  const dokumenter = checkDokumenter(v, raw, kunDigital)
  v.throwIfFailed()
  const m = mottaker as Json
  return {
    tittel: raw.tittel as string,
    mottaker: { navn: m.navn as string, digitalId: m.digitalId as string },
    eksternReferanse: eksternRef ?? null,
    kryptert,
    kunDigitalLevering: kunDigital,
    niva: niva === 'HOYESTE' ? 4 : 3,
    forsendelsestype: type ?? null,
    dokumenter,
    raw,
  }
}

function checkMetadata(v: Checker, raw: Json): void {
  const meta = v.object(raw, 'metadataFraAvleverendeSystem', false)
  if (!meta) return
  const p = 'metadataFraAvleverendeSystem.'
  for (const f of [
    'mappeId',
    'mappeSystemId',
    'systemId',
    'registreringsId',
    'journalposttype',
    'journalstatus',
  ])
    v.text(meta, f, 1, 100, false, p)
  v.text(meta, 'tittel', 1, 1000, false, p)
  v.text(meta, 'saksbehandler', 1, 100, false, p)
  for (const f of ['saksaar', 'journalaar']) v.integer(meta, f, 1000, 9999, p)
  for (const f of ['sakssekvensnummer', 'journalpostnummer', 'journalsekvensnummer'])
    v.integer(meta, f, 1, Number.MAX_SAFE_INTEGER, p)
  for (const f of ['journaldato', 'dokumentetsDato']) {
    const d = v.text(meta, f, 1, 100, false, p)
    if (d !== undefined && Number.isNaN(Date.parse(d))) v.fail(`${p}${f}`, 'må være en ISO 8601 date-time')
  }
  v.metadataList(meta, 'ekstraMetadata', p)
}

function checkLenker(v: Checker, raw: Json): void {
  const lenker = v.array(raw, 'lenker', 5)
  lenker?.forEach((l, i) => {
    const p = `lenker[${i}].`
    if (!isObject(l)) {
      v.fail(`lenker[${i}]`, 'må være et objekt')
      return
    }
    v.text(l, 'url', 1, 1000, true, p)
    v.text(l, 'tekst', 1, 100, true, p)
    v.text(l, 'ledetekst', 1, 100, false, p)
  })
}

function checkDokumenter(v: Checker, raw: Json, kunDigital: boolean): Dokument[] {
  const list = v.array(raw, 'dokumenter', Number.MAX_SAFE_INTEGER) ?? []
  if (list.length === 0) v.fail('dokumenter', 'Forsendelsen må ha minst ett dokument')
  const seen = new Set<string>()
  return list.map((d, i) => {
    const p = `dokumenter[${i}].`
    if (!isObject(d)) {
      v.fail(`dokumenter[${i}]`, 'må være et objekt')
      return { filnavn: '', mimeType: '', skalEkskluderesFraUtskrift: false }
    }
    const filnavn = v.text(d, 'filnavn', 1, 226, true, p) ?? ''
    if (FILNAVN_FORBIDDEN.test(filnavn))
      v.fail(`${p}filnavn`, 'kan ikke inneholde noen av tegnene * : " \\ / < > | ?')
    if (filnavn && seen.has(filnavn)) v.fail(`${p}filnavn`, `Filnavnet ${filnavn} er brukt mer enn én gang`)
    seen.add(filnavn)
    const mimeType = v.text(d, 'mimeType', 1, 127, true, p) ?? ''
    v.text(d, 'dokumentType', 1, 100, false, p)
    const ekskluderes = v.bool(d, 'skalEkskluderesFraUtskrift', p) ?? false
    v.bool(d, 'inneholderPersonsensitivInformasjon', p)
    v.metadataList(d, 'ekstraMetadata', p)
    if (!kunDigital && mimeType && mimeType.toLowerCase() !== 'application/pdf' && !ekskluderes)
      v.fail(
        `${p}skalEkskluderesFraUtskrift`,
        `Kun application/pdf kan printes: ${filnavn} (${mimeType}) må ekskluderes fra utskrift, eller forsendelsen må være kunDigitalLevering`,
      )
    return { filnavn, mimeType, skalEkskluderesFraUtskrift: ekskluderes }
  })
}

class Checker {
  readonly errors: Record<string, string> = {}

  fail(field: string, message: string): void {
    this.errors[field] = this.errors[field] ? `${this.errors[field]}; ${message}` : message
  }

  throwIfFailed(): void {
    const entries = Object.entries(this.errors)
    if (entries.length === 0) return
    const text = entries.map(([f, m]) => `${f}: ${m}`).join('; ')
    throw badRequest(`Ugyldig forsendelse: ${text}`, 'VALIDERINGSFEIL', this.errors)
  }

  text(o: Json, f: string, min: number, max: number, required: boolean, p = ''): string | undefined {
    const value = o[f]
    if (value === undefined || value === null) {
      if (required) this.fail(`${p}${f}`, 'må være satt')
      return undefined
    }
    if (typeof value !== 'string') return void this.fail(`${p}${f}`, 'må være en tekst')
    if (value.length < min || value.length > max)
      return void this.fail(`${p}${f}`, `lengden må være mellom ${min} og ${max}`)
    return value
  }

  bool(o: Json, f: string, p = ''): boolean | undefined {
    const value = o[f]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'boolean') return void this.fail(`${p}${f}`, 'må være true eller false')
    return value
  }

  integer(o: Json, f: string, min: number, max: number, p = ''): void {
    const value = o[f]
    if (value === undefined || value === null) return
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
      this.fail(`${p}${f}`, `må være et heltall fra ${min} til ${max}`)
  }

  oneOf<T extends string>(o: Json, f: string, allowed: T[], p = '', required = false): T | undefined {
    const value = o[f]
    if (value === undefined || value === null) {
      if (required) this.fail(`${p}${f}`, 'må være satt')
      return undefined
    }
    if (!allowed.includes(value as T))
      return void this.fail(`${p}${f}`, `må være en av ${allowed.join(', ')}`)
    return value as T
  }

  object(o: Json, f: string, required: boolean): Json | undefined {
    const value = o[f]
    if (value === undefined || value === null) {
      if (required) this.fail(f, 'må være satt')
      return undefined
    }
    if (!isObject(value)) return void this.fail(f, 'må være et objekt')
    return value
  }

  array(o: Json, f: string, max: number, p = ''): unknown[] | undefined {
    const value = o[f]
    if (value === undefined || value === null) return undefined
    if (!Array.isArray(value)) return void this.fail(`${p}${f}`, 'må være en liste')
    if (value.length > max) this.fail(`${p}${f}`, `kan ha høyst ${max} elementer`)
    return value
  }

  adresse(o: Json, p: string, required: boolean): void {
    const a = o.adresse
    if (a === undefined || a === null) {
      if (required) this.fail(`${p}adresse`, 'må være satt')
      return
    }
    if (!isObject(a)) {
      this.fail(`${p}adresse`, 'må være et objekt')
      return
    }
    const q = `${p}adresse.`
    this.text(a, 'adresselinje1', 1, 70, true, q)
    this.text(a, 'adresselinje2', 1, 70, false, q)
    this.text(a, 'adresselinje3', 1, 70, false, q)
    this.text(a, 'poststed', 1, 70, true, q)
    this.text(a, 'postnummer', 1, 20, false, q)
    const land = this.text(a, 'landkode', 2, 2, false, q)
    if (land !== undefined && !/^[A-Z]{2}$/.test(land)) this.fail(`${q}landkode`, 'må matche ^[A-Z]{2}$')
  }

  metadataList(o: Json, f: string, p: string): void {
    const list = this.array(o, f, 20, p)
    list?.forEach((m, i) => {
      const q = `${p}${f}[${i}].`
      if (!isObject(m)) {
        this.fail(`${p}${f}[${i}]`, 'må være et objekt')
        return
      }
      this.text(m, 'key', 1, 100, true, q)
      this.text(m, 'value', 1, 500, true, q)
    })
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
