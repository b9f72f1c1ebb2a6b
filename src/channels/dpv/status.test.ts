import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { Config } from '../../config/types.js'
import type { Db } from '../../db/open.js'
import { ManualClock } from '../../util/time.js'
import { BrokerError } from '../altinn-errors.js'
import type { Intake, PolledMessage, StatusPort, StatusUpdate } from '../ports.js'
import type { CorrespondenceClient, CorrespondenceOverview } from './client.js'
import { DELETED_IN_ALTINN, pollDpvStatuses, receiptMessageId } from './status.js'

/** the statuses of `count` polled messages, kept as the real port keeps them (paged by messageId) */
function memoryPort(messages: PolledMessage[]) {
  const registered = new Map<string, StatusUpdate[]>()
  const stopped: string[] = []
  const port: StatusPort = {
    async pollable({ limit, after }) {
      return messages
        .filter((m) => !stopped.includes(m.messageId) && (after === undefined || m.messageId > after))
        .sort((a, b) => a.messageId.localeCompare(b.messageId))
        .slice(0, limit)
    },
    async register(id, updates, opts) {
      registered.set(id, [...(registered.get(id) ?? []), ...updates])
      if (opts?.stopPolling) stopped.push(id)
      return updates.map((u) => u.status)
    },
    async stopPolling(id) {
      stopped.push(id)
    },
  }
  return { port, registered, stopped }
}

const message = (messageId: string, reference: string): PolledMessage => ({
  messageId,
  reference,
  type: 'digital_dpv',
  statuses: ['OPPRETTET', 'SENDT'],
})

describe('the DPV status round', () => {
  it('maps each overview, survives an unknown status and a failing call, and pages through them all', async () => {
    const overviews: Record<string, CorrespondenceOverview | Error> = {
      forwarded: { status: 'Forwarded', published: '2026-01-01T10:00:00+00:00', read: null },
      broken: new BrokerError('Altinn Correspondence GET /correspondence answered 500: oops', {
        status: 500,
        retryable: true,
      }),
      gone: new BrokerError('answered 404', { status: 404, retryable: false }),
      reserved: { status: 'Reserved', statusText: 'The recipient is reserved', published: null },
      read: { status: 'Read', published: '2026-01-01T10:00:00+00:00', read: '2026-01-01T11:00:00+00:00' },
      purged: { status: 'PurgedByRecipient', published: '2026-01-01T10:00:00+00:00' },
      waiting: { status: 'Initialized', published: null, read: null },
    }
    const asked: string[] = []
    const client = {
      async overview(ref: string) {
        asked.push(ref)
        const o = overviews[ref.replace(/-\d+$/, '')] ?? overviews.waiting!
        if (o instanceof Error) throw o
        return o
      },
    } as unknown as CorrespondenceClient
    const names = Object.keys(overviews)
    // more than a page: 7 named ones and 200 still waiting
    const messages = [
      ...names.map((n, i) => message(`m-${i}-${n}`, n)),
      ...Array.from({ length: 200 }, (_, i) => message(`w-${String(i).padStart(3, '0')}`, `waiting-${i}`)),
    ]
    const { port, registered, stopped } = memoryPort(messages)
    const intake = { take: async () => 'stored' } as unknown as Intake
    const done = await pollDpvStatuses({
      config: { arkivmelding: { generateReceipts: true } } as Config,
      db: {} as Db,
      clock: new ManualClock('2026-01-01T12:00:00Z'),
      logger: pino({ level: 'silent' }),
      client,
      statuses: port,
      intake,
    })
    expect(done).toBe(0)
    expect(asked.length).toBe(messages.length)
    const got = (n: string) => registered.get(messages.find((m) => m.reference === n)!.messageId)
    expect(got('forwarded')?.map((u) => u.status)).toEqual(['LEVERT'])
    expect(got('broken')).toBeUndefined()
    expect(got('gone')).toEqual([{ status: 'ANNET', description: DELETED_IN_ALTINN }])
    expect(got('reserved')?.map((u) => [u.status, u.description])).toEqual([
      ['FEIL', 'Altinn: Reserved: The recipient is reserved'],
    ])
    expect(got('read')?.map((u) => u.status)).toEqual(['LEVERT', 'LEST'])
    expect(got('purged')?.map((u) => [u.status, u.description])).toEqual([['ANNET', DELETED_IN_ALTINN]])
    expect(got('waiting')).toBeUndefined()
    expect(stopped.sort()).toEqual(['m-2-gone', 'm-3-reserved', 'm-5-purged'])
  })

  it('names the synthesised receipt by the original messageId: the same every round, another for another', () => {
    const a = receiptMessageId('6e787a33-6c23-4404-a684-60d4cf1b0a3e')
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(receiptMessageId('6e787a33-6c23-4404-a684-60d4cf1b0a3e')).toBe(a)
    expect(receiptMessageId('6e787a33-6c23-4404-a684-60d4cf1b0a3f')).not.toBe(a)
  })
})
