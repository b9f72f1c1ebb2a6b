import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { BAR_THRESHOLD, createProgress, type ProgressEvent, progressMode } from './progress.js'

function captured() {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (d) => {
    text += d
  })
  return { stream, text: () => text }
}

const event = (totalSent: number, totalBytes: number, filename = 'big.bin'): ProgressEvent => ({
  filename,
  fileBytes: totalBytes,
  fileSent: totalSent,
  totalBytes,
  totalSent,
})

describe('progress', () => {
  it('chooses a bar on a terminal for large messages, lines when forced, else nothing', () => {
    expect(progressMode({ forced: false, isTTY: true, totalBytes: BAR_THRESHOLD + 1 })).toBe('bar')
    expect(progressMode({ forced: false, isTTY: true, totalBytes: BAR_THRESHOLD })).toBe('none')
    expect(progressMode({ forced: false, isTTY: false, totalBytes: 10 * BAR_THRESHOLD })).toBe('none')
    expect(progressMode({ forced: true, isTTY: true, totalBytes: 10 * BAR_THRESHOLD })).toBe('lines')
    expect(progressMode({ forced: true, isTTY: false, totalBytes: 1 })).toBe('lines')
  })

  it('writes a line at each 5 % step and at 100 %, however often it is told', async () => {
    const out = captured()
    const p = createProgress('lines', out.stream)
    const total = 100 * 1024 * 1024
    for (let sent = 0; sent <= total; sent += 64 * 1024) p.update(event(sent, total))
    p.stop()
    const lines = out.text().trim().split('\n')
    const percents = lines.map((l) => Number(/^progress (\d+)% /.exec(l)?.[1]))
    expect(percents).toEqual(Array.from({ length: 21 }, (_, i) => i * 5))
    expect(lines.at(-1)).toBe('progress 100% (100.0 MiB of 100.0 MiB) big.bin')
  })

  it('draws a bar that ends at the total', () => {
    const out = captured()
    const p = createProgress('bar', out.stream)
    p.update(event(0, 4 * BAR_THRESHOLD))
    p.update(event(4 * BAR_THRESHOLD, 4 * BAR_THRESHOLD))
    p.stop()
    expect(out.text()).toContain('100%')
    expect(out.text()).toContain('4.0 MiB/4.0 MiB')
  })
})
