import { generateKeyPair, randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import type pino from 'pino'
import { signJws } from '../../packaging/jws.js'
import { dpiReceipt } from '../../sbd/dpi.js'
import type { Clock } from '../../util/time.js'
import { createSelfSignedCertificate } from '../service-registry/x509.js'
import { providerKeys } from './chain.js'
import { conflict } from './errors.js'
import type { ProviderKeySource, ProviderKeys } from './keys.js'
import { bodyOf } from './mapper.js'
import { makeReceipt, type NewReceipt, row } from './receipts.js'
import type { DpiSettings } from './settings.js'
import type { DpiStore, LetterRow, LetterStatus } from './store.js'

/** What the sandbox's hooks need: they act as the citizen, the mailbox or the printer would. */
export interface ActionDeps {
  store: DpiStore
  settings: DpiSettings
  clock: Clock
  logger: pino.Logger
  keys: ProviderKeySource
  onReceipt(letter: LetterRow): void
}

const DELIVERED: LetterStatus[] = ['LEVERT', 'LEST']

/**
 * The citizen opens a digital letter in the mailbox: LEST, and an aapningskvittering when the letter
 * asked for one (`aapningskvittering: true`) and none was made yet. True when a receipt was made.
 */
export async function open(deps: ActionDeps, letter: LetterRow): Promise<boolean> {
  if (letter.type !== 'digital')
    throw conflict('not-digital', `${letter.id} is a print letter: only digital post is opened`)
  if (!DELIVERED.includes(letter.status))
    throw conflict('not-delivered', `${letter.id} is ${letter.status}: only a delivered letter can be opened`)
  const wanted = bodyOf(letter).aapningskvittering === true
  const made = deps.store.receiptsOf(letter.id).some((r) => r.type === 'aapningskvittering')
  const receipts = wanted && !made ? [await receipt(deps, letter, 'aapningskvittering')] : []
  apply(deps, letter, 'LEST', receipts)
  return receipts.length > 0
}

/** A notice by e-mail or SMS could not be sent: a varslingfeiletkvittering (the letter stays delivered). */
export async function failNotification(
  deps: ActionDeps,
  letter: LetterRow,
  varslingskanal: 'epost' | 'sms',
  beskrivelse?: string,
): Promise<void> {
  if (letter.type !== 'digital')
    throw conflict('not-digital', `${letter.id} is a print letter: it has no notices`)
  if (!DELIVERED.includes(letter.status))
    throw conflict('not-delivered', `${letter.id} is ${letter.status}: notices go out for a delivered letter`)
  const details = { varslingskanal, ...(beskrivelse !== undefined ? { beskrivelse } : {}) }
  apply(deps, letter, undefined, [await receipt(deps, letter, 'varslingfeiletkvittering', details)])
}

/** A printed letter came back: a returpostkvittering now, instead of after printReturnAfterMs. */
export async function returnLetter(deps: ActionDeps, letter: LetterRow): Promise<void> {
  if (letter.type !== 'utskrift')
    throw conflict('not-print', `${letter.id} is digital post: only print comes back`)
  if (letter.status !== 'MOTTATT' && letter.status !== 'LEVERT')
    throw conflict(
      'not-printed',
      `${letter.id} is ${letter.status}: only a letter the printer took can come back`,
    )
  apply(deps, letter, 'RETURPOST', [await receipt(deps, letter, 'returpostkvittering')], true)
}

/** The mailbox or printer reports an error: a feil receipt, and the chain stops for this letter. */
export async function raiseError(
  deps: ActionDeps,
  letter: LetterRow,
  feiltype: 'KLIENT' | 'SERVER',
  detaljer?: string,
): Promise<void> {
  if (letter.status === 'OPPRETTET' || letter.status === 'FEILET')
    throw conflict('not-sent', `${letter.id} is ${letter.status}: it never reached the mailbox or printer`)
  const details = { feiltype, ...(detaljer !== undefined ? { detaljer } : {}) }
  apply(deps, letter, 'FEIL', [await receipt(deps, letter, 'feil', details)], true, detaljer ?? null)
}

/**
 * A receipt the integration point must refuse, queued like the real ones: a leveringskvittering signed
 * with a key the ServiceRegistry publishes for nobody, or (`garbage`) a forretningsmelding that is no JWS.
 */
export async function badReceipt(
  deps: ActionDeps,
  letter: LetterRow,
  o: { kanal?: string; garbage: boolean },
): Promise<NewReceipt> {
  const now = deps.clock.now()
  const id = randomUUID()
  const jws = o.garbage
    ? 'this is not a JWS'
    : await signJws(
        dpiReceipt({
          type: 'leveringskvittering',
          original: JSON.parse(letter.payload),
          provider: letter.provider,
          id,
          tidspunkt: now,
          now,
        }),
        await strangerKeys(now),
      )
  const made = {
    ...row(letter, id, o.garbage ? 'garbage' : 'leveringskvittering', jws, now),
    kanal: o.kanal ?? letter.kanal,
  }
  deps.store.addReceipts([made])
  deps.onReceipt(letter)
  return made
}

async function receipt(
  deps: ActionDeps,
  letter: LetterRow,
  type: Parameters<typeof makeReceipt>[1],
  details?: Parameters<typeof makeReceipt>[4],
) {
  return makeReceipt(letter, type, await providerKeys(deps, letter), deps.clock.now(), details)
}

/** writes the status and receipts; `stop` ends the letter's pending steps (a returned letter is not printed) */
function apply(
  deps: ActionDeps,
  letter: LetterRow,
  status: LetterStatus | undefined,
  receipts: NewReceipt[],
  stop = false,
  detail?: string | null,
): void {
  const advance = {
    ...(status ? { status } : {}),
    step: stop ? null : letter.step,
    stepAt: stop ? null : letter.step_at,
    receipts,
    ...(detail !== undefined ? { detail } : {}),
  }
  if (!deps.store.advance(letter.id, letter.step, advance, deps.clock.now().getTime()))
    throw conflict('busy', `${letter.id} moved on meanwhile: try again`)
  if (receipts.length > 0) deps.onReceipt(letter)
}

let stranger: Promise<ProviderKeys> | undefined

/** a key pair no registry knows, made once per process */
function strangerKeys(now: Date): Promise<ProviderKeys> {
  stranger ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => ({
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certPem: createSelfSignedCertificate({
      privateKey,
      subject: { commonName: 'Unknown provider (DPI stand-in)', country: 'NO' },
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + 365 * 86_400_000),
    }).toString(),
  }))
  return stranger
}
