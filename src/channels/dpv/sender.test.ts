import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { StandardBusinessDocument } from '../../sbd/types.js'
import type { CorrespondenceClient } from './client.js'
import { type DpvSenderDeps, sendDpv } from './sender.js'

describe('sending to DPV', () => {
  it("registers a fagsystem's arkivmelding_kvittering as LEVERT and LEST and asks Altinn nothing, as the reference", async () => {
    const calls: string[] = []
    const client = new Proxy({} as CorrespondenceClient, {
      get: (_, name) => () => {
        calls.push(String(name))
        throw new Error('Altinn must not be called')
      },
    })
    const deps = { client, logger: pino({ level: 'silent' }) } as unknown as DpvSenderDeps
    const sbd = {
      standardBusinessDocumentHeader: {},
      type: 'arkivmelding_kvittering',
      businessMessage: { receiptType: 'OK', relatedToMessageId: 'x' },
    } as StandardBusinessDocument
    expect(await sendDpv(deps, { purpose: 'send:1', sbd, files: [] })).toEqual({
      outcome: 'delivered',
      statuses: [{ status: 'LEVERT' }, { status: 'LEST' }],
    })
    expect(calls).toEqual([])
  })
})
