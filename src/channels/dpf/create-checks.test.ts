import { describe, expect, it } from 'vitest'
import { capturingLogger } from '../../../test/support/logging.js'
import { ApiError } from '../../errors/api-error.js'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import { ManualClock } from '../../util/time.js'
import { dpfCreateCheck, FORSENDELSESTYPER_RETRY_MS, FORSENDELSESTYPER_TTL_MS } from './create-checks.js'
import { RECEIVER, SENDER } from './test-support.js'

const TYPES = ['Arkivmelding', 'Byggesak', 'Plansak']

function sbd(
  o: { type?: string; sender?: string; forsendelseType?: string | null } = {},
): StandardBusinessDocument {
  const type = o.type ?? 'arkivmelding'
  const partner = (value: string) => [{ identifier: { authority: 'iso6523-actorid-upis', value } }]
  return {
    type,
    standardBusinessDocumentHeader: {
      sender: partner(o.sender ?? `0192:${SENDER}`),
      receiver: partner(`0192:${RECEIVER}`),
    },
    businessMessage: o.forsendelseType === undefined ? {} : { dpf: { forsendelseType: o.forsendelseType } },
  }
}

/** SvarUt's list as a fake client gives it: each call answered by `answer`, counted. */
function world(answer: () => Promise<string[]> = async () => TYPES, waitMs?: number) {
  const clock = new ManualClock()
  const log = capturingLogger()
  let calls = 0
  const client = {
    forsendelsestyper: () => {
      calls++
      return answer()
    },
  }
  const check = dpfCreateCheck({ ownOrg: SENDER, client, clock, logger: log.logger, waitMs })
  const levels = () => log.lines().map((l) => l.level)
  return { check, clock, calls: () => calls, levels, lines: log.lines }
}

const failing = () => Promise.reject(new Error('connect ECONNREFUSED'))

describe("DPF's create-time checks", () => {
  it('refuses a forsendelseType SvarUt does not list, with its list in the message', async () => {
    const w = world()
    const refusal = await w.check(sbd({ forsendelseType: 'Oppmåling' }))
    expect(refusal).toEqual({
      code: 'ForsendelseTypeNotFound',
      args: ['Oppmåling', 'Arkivmelding,Byggesak,Plansak'],
    })
    const error = new ApiError(refusal!.code, refusal!.args)
    expect(error.status).toBe(400)
    expect(error.exception).toBe('no.difi.meldingsutveksling.exceptions.ForsendelseTypeNotFoundException')
    expect(error.message).toBe(
      'Found forsendelseType Oppmåling, but valid types are Arkivmelding,Byggesak,Plansak',
    )
  })

  it('takes a listed type, and asks SvarUt nothing when no type is set', async () => {
    const w = world()
    expect(await w.check(sbd())).toBeNull()
    expect(await w.check(sbd({ forsendelseType: '' }))).toBeNull()
    expect(await w.check(sbd({ forsendelseType: null }))).toBeNull()
    expect(w.calls()).toBe(0)
    expect(await w.check(sbd({ forsendelseType: 'Byggesak' }))).toBeNull()
    expect(w.calls()).toBe(1)
  })

  it('refuses a sender other than our own organisation: REST sends from our one konto', async () => {
    const w = world()
    expect(await w.check(sbd({ sender: `0192:${SENDER}:${RECEIVER}` }))).toEqual({
      code: 'MissingSvarUtCredentials',
      args: [RECEIVER],
    })
    expect(await w.check(sbd({ sender: `0192:${RECEIVER}` }))).toEqual({
      code: 'MissingSvarUtCredentials',
      args: [RECEIVER],
    })
    expect(new ApiError('MissingSvarUtCredentials', [RECEIVER]).message).toBe(
      `SvarUt credentials not configured for orgnr ${RECEIVER}`,
    )
    // on behalf of ourselves is ourselves
    expect(await w.check(sbd({ sender: `0192:${SENDER}:${SENDER}` }))).toBeNull()
  })

  it('checks the type before the sender, as the reference', async () => {
    const w = world()
    const refusal = await w.check(sbd({ sender: `0192:${RECEIVER}`, forsendelseType: 'Ukjent' }))
    expect(refusal?.code).toBe('ForsendelseTypeNotFound')
  })

  it('checks only an arkivmelding', async () => {
    const w = world()
    expect(
      await w.check(
        sbd({ type: 'arkivmelding_kvittering', sender: `0192:${RECEIVER}`, forsendelseType: 'Ukjent' }),
      ),
    ).toBeNull()
    expect(w.calls()).toBe(0)
  })

  it('keeps the list five minutes, and asks once for checks that wait together', async () => {
    let release: () => void = () => {}
    let answers = [TYPES, ['Byggesak']]
    const w = world(
      () =>
        new Promise((resolve) => {
          const next = answers[0]!
          answers = answers.slice(1)
          release = () => resolve(next)
        }),
    )
    const together = [1, 2, 3].map(() => w.check(sbd({ forsendelseType: 'Plansak' })))
    release()
    expect(await Promise.all(together)).toEqual([null, null, null])
    expect(w.calls()).toBe(1)

    w.clock.advance(FORSENDELSESTYPER_TTL_MS - 1)
    expect(await w.check(sbd({ forsendelseType: 'Plansak' }))).toBeNull()
    expect(w.calls()).toBe(1)

    // SvarUt's new list, once the old one is five minutes old
    w.clock.advance(1)
    const later = w.check(sbd({ forsendelseType: 'Plansak' }))
    release()
    expect((await later)?.code).toBe('ForsendelseTypeNotFound')
    expect(w.calls()).toBe(2)
  })

  it('takes the message when SvarUt cannot be asked, warns once, and asks again after a pause', async () => {
    let answer: () => Promise<string[]> = failing
    const w = world(() => answer())
    expect(await w.check(sbd({ forsendelseType: 'Ukjent' }))).toBeNull()
    expect(await w.check(sbd({ forsendelseType: 'Ukjent' }))).toBeNull()
    expect(w.calls()).toBe(1)
    expect(w.levels()).toEqual([40])
    expect(String(w.lines()[0]!.msg)).toContain('ECONNREFUSED')

    // still down after the pause: asked again, not warned again
    w.clock.advance(FORSENDELSESTYPER_RETRY_MS)
    expect(await w.check(sbd({ forsendelseType: 'Ukjent' }))).toBeNull()
    expect(w.calls()).toBe(2)
    expect(w.levels()).toEqual([40])

    // back: checked again, and said so
    answer = async () => TYPES
    w.clock.advance(FORSENDELSESTYPER_RETRY_MS)
    expect((await w.check(sbd({ forsendelseType: 'Ukjent' })))?.code).toBe('ForsendelseTypeNotFound')
    expect(w.calls()).toBe(3)
    expect(w.levels()).toEqual([40, 30])

    // a new failure period is warned about again
    answer = failing
    w.clock.advance(FORSENDELSESTYPER_TTL_MS)
    expect(await w.check(sbd({ forsendelseType: 'Ukjent' }))).toBeNull()
    expect(w.levels()).toEqual([40, 30, 40])
  })

  it('takes the message when SvarUt does not answer in time; its late answer serves the next one', async () => {
    let release: (types: string[]) => void = () => {}
    const w = world(() => new Promise((resolve) => (release = resolve)), 5)
    expect(await w.check(sbd({ forsendelseType: 'Ukjent' }))).toBeNull()
    expect(w.levels()).toEqual([40])
    expect(String(w.lines()[0]!.msg)).toContain('no answer within 5 ms')
    release(TYPES)
    await new Promise((resolve) => setImmediate(resolve))
    expect((await w.check(sbd({ forsendelseType: 'Ukjent' })))?.code).toBe('ForsendelseTypeNotFound')
    expect(w.calls()).toBe(1)
    expect(w.levels()).toEqual([40, 30])
  })
})
