import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type pino from 'pino'
import type { Clock } from '../../util/time.js'
import type { ProviderKeySource, ProviderKeys } from './keys.js'
import { openPackage } from './mailbox.js'
import { bodyOf } from './mapper.js'
import { makeReceipt } from './receipts.js'
import type { DpiSettings } from './settings.js'
import type { Advance, DpiStore, LetterRow, Step } from './store.js'

/**
 * The chain behind the access point, simulated: the handover to the receiver's access point (C3,
 * OPPRETTET → SENDT, or FEILET), then the mailbox or printer (C4) that decrypts and checks the package
 * and answers with receipts. Each letter's next step lives in its row, so the worker is driven from the
 * database and a restarted stand-in resumes what was pending. One worker per process; a step is applied
 * only while the row still names it, so a step is never done twice.
 */
export interface ChainDeps {
  store: DpiStore
  settings: DpiSettings
  clock: Clock
  logger: pino.Logger
  keys: ProviderKeySource
  dataDir: string
  /** the injected C2 failure: while set, letters handed over become FEILET with this beskrivelse */
  feilet(): string | null
  /** a receipt was queued for the letter's sender */
  onReceipt(letter: LetterRow): void
}

export interface ChainWorker {
  start(): void
  stop(): Promise<void>
  /** a step may be due sooner than the worker sleeps */
  nudge(): void
  /** runs the steps due now; how many ran */
  tick(): Promise<number>
}

/** a step that failed (the disk, a key) is tried again this much later */
const RETRY_MS = 5_000
/** the worker looks at the rows at least this often, whatever it was told */
const MAX_SLEEP_MS = 60_000

export function createChainWorker(deps: ChainDeps): ChainWorker {
  let running = false
  let wake = new AbortController()
  let loop: Promise<void> | undefined
  const tick = async () => {
    let ran = 0
    for (const letter of deps.store.due(deps.clock.now().getTime())) {
      await runStep(deps, letter)
      ran++
    }
    return ran
  }
  const run = async () => {
    while (running) {
      try {
        await tick()
      } catch (error) {
        deps.logger.error({ err: error }, 'dpi stand-in: a step failed')
      }
      const next = deps.store.nextDue()
      const wait =
        next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, next - deps.clock.now().getTime())
      if (wait > 0) await sleep(wait, undefined, { signal: wake.signal }).catch(() => undefined)
      wake = new AbortController()
    }
  }
  return {
    start() {
      if (running) return
      running = true
      loop = run()
    },
    async stop() {
      running = false
      wake.abort()
      await loop
    },
    nudge: () => wake.abort(),
    tick,
  }
}

async function runStep(deps: ChainDeps, letter: LetterRow): Promise<void> {
  const step = letter.step as Step
  const now = deps.clock.now()
  let outcome: Advance
  try {
    outcome = await STEPS[step](deps, letter, now)
  } catch (error) {
    deps.logger.warn({ err: error, id: letter.id, step }, 'dpi stand-in: step failed, tried again later')
    outcome = { step, stepAt: now.getTime() + RETRY_MS }
  }
  const applied = deps.store.advance(letter.id, step, outcome, now.getTime())
  if (applied && outcome.receipts?.length) deps.onReceipt(letter)
  if (applied && outcome.status)
    deps.logger.info({ id: letter.id, type: letter.type, status: outcome.status }, 'dpi letter moved')
}

type StepFn = (deps: ChainDeps, letter: LetterRow, now: Date) => Promise<Advance>

const STEPS: Record<Step, StepFn> = {
  /** C2 → C3: FEILET when a fault is injected or no access point serves the provider */
  async handover(deps, letter) {
    const injected = deps.feilet()
    const keys = injected === null ? await deps.keys.get(letter.provider) : undefined
    const beskrivelse =
      injected ??
      (keys ? null : `No access point serves 0192:${letter.provider}: it is no mailbox or print provider`)
    if (beskrivelse !== null)
      return {
        status: 'FEILET',
        step: null,
        stepAt: null,
        detail: beskrivelse,
        c2Status: { status: 'FEILET', beskrivelse },
      }
    return {
      status: 'SENDT',
      step: 'deliver',
      stepAt: deps.clock.now().getTime(),
      c2Status: { status: 'SENDT', beskrivelse: null },
    }
  },
  /** C4: the mailbox or printer opens the package; receipts as the real ones answer */
  async deliver(deps, letter, now) {
    const keys = await providerKeys(deps, letter)
    const opened = await openPackage({
      cmsPath: letter.package_path,
      providerKeyPem: keys.keyPem,
      providerCertPem: keys.certPem,
      businessMessage: mailboxView(letter),
      senderCertPem: signerCertificate(letter.forretningsmelding),
      workDir: join(deps.dataDir, 'letters', letter.id),
    })
    if (!opened.ok) {
      const receipt = await makeReceipt(letter, 'feil', keys, now, {
        feiltype: 'KLIENT',
        detaljer: opened.reason,
      })
      return { status: 'FEIL', step: null, stepAt: null, detail: opened.reason, receipts: [receipt] }
    }
    const documents = JSON.stringify(opened.documents)
    if (letter.type === 'digital') {
      const receipt = await makeReceipt(letter, 'leveringskvittering', keys, now)
      return { status: 'LEVERT', step: null, stepAt: null, documents, receipts: [receipt] }
    }
    const receipt = await makeReceipt(letter, 'mottakskvittering', keys, now)
    return {
      status: 'MOTTATT',
      step: 'print',
      stepAt: now.getTime() + deps.settings.printDelayMs,
      documents,
      receipts: [receipt],
    }
  },
  /** the printer has printed it: ready for posting */
  async print(deps, letter, now) {
    const receipt = await makeReceipt(letter, 'leveringskvittering', await providerKeys(deps, letter), now)
    const back = deps.settings.printReturnAfterMs
    return {
      status: 'LEVERT',
      step: back === null ? null : 'return',
      stepAt: back === null ? null : now.getTime() + back,
      receipts: [receipt],
    }
  },
  /** the letter came back and was handled as its retur says */
  async return(deps, letter, now) {
    const receipt = await makeReceipt(letter, 'returpostkvittering', await providerKeys(deps, letter), now)
    return { status: 'RETURPOST', step: null, stepAt: null, receipts: [receipt] }
  },
}

/** what the mailbox holds the package's manifest against: the sender and the mailbox address */
function mailboxView(letter: LetterRow) {
  const body = bodyOf(letter) as {
    avsender?: { virksomhetsidentifikator?: { value?: string } }
    mottaker?: { postkasseadresse?: string }
  }
  return {
    type: letter.type,
    avsender: body.avsender?.virksomhetsidentifikator?.value ?? `0192:${letter.avsender_org}`,
    postkasseadresse: body.mottaker?.postkasseadresse ?? null,
  }
}

export async function providerKeys(
  deps: { keys: ProviderKeySource },
  letter: LetterRow,
): Promise<ProviderKeys> {
  const keys = await deps.keys.get(letter.provider)
  if (!keys) throw new Error(`no generated credential for the provider ${letter.provider}`)
  return keys
}

/** the certificate in the business message's `x5c[0]` (checked at the send) as PEM */
export function signerCertificate(jws: string): string {
  const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8'))
  return new X509Certificate(Buffer.from(header.x5c[0], 'base64')).toString()
}
