import { describe, expect, it } from 'vitest'
import type { JobRow, OutFileRow, OutMessageRow } from '../db/schema.js'
import { planRetry } from './message-data.js'

const job: JobRow = {
  id: 1,
  kind: 'send:DPO',
  payload: '{}',
  message_id: 'm1',
  dedupe_key: null,
  run_at: 0,
  attempts: 5,
  max_attempts: 5,
  locked_by: null,
  locked_until: null,
  last_error: 'broker down',
  state: 'FAILED',
  created_at: 0,
  updated_at: 0,
}
const message = { message_id: 'm1', state: 'SENDING' } as OutMessageRow
const file = (n: number, filename: string) =>
  ({ dokumentnummer: n, filename, storage_key: `out/m1/${n}` }) as OutFileRow

describe('planRetry of a given-up send', () => {
  const files = [file(1, 'a.pdf'), file(2, 'b.pdf'), file(3, 'c.pdf')]
  const storeWith = (kept: string[]) => {
    const asked: string[][] = []
    const store = {
      missing: async (keys: readonly string[]) => {
        asked.push([...keys])
        return keys.filter((k) => !kept.includes(k))
      },
    }
    return { store, asked }
  }

  it('revives it while every file is kept, asking the store once for all', async () => {
    const { store, asked } = storeWith(files.map((f) => f.storage_key))
    expect(await planRetry([job], message, files, store, 10)).toEqual({ kind: 'revive', job })
    expect(asked).toEqual([files.map((f) => f.storage_key)])
  })

  it('names the first file gone, in the message order', async () => {
    const { store } = storeWith(['out/m1/1'])
    expect(await planRetry([job], message, files, store, 10)).toEqual({
      kind: 'none',
      reason: 'The send was given up and its file b.pdf is gone.',
    })
  })
})
