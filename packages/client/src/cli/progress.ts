/**
 * Upload progress on stderr: a bar on a terminal for large messages, plain lines when asked for
 * (`--progress`, e.g. in a CI log), nothing otherwise.
 */
import cliProgress from 'cli-progress'
import type { SendOptions } from '../index.js'
import { formatBytes } from './format.js'

export type ProgressEvent = Parameters<NonNullable<SendOptions['onProgress']>>[0]
export type ProgressMode = 'bar' | 'lines' | 'none'

/** Below this a bar would only flash by. */
export const BAR_THRESHOLD = 1024 * 1024
/** Plain lines are written at each multiple of this many percent, and at 100 %. */
export const LINE_STEP_PERCENT = 5

export function progressMode(opts: { forced: boolean; isTTY: boolean; totalBytes: number }): ProgressMode {
  if (opts.forced) return 'lines'
  return opts.isTTY && opts.totalBytes > BAR_THRESHOLD ? 'bar' : 'none'
}

export interface Progress {
  update(p: ProgressEvent): void
  /** ends the bar (on success or failure), so the next line starts clean */
  stop(): void
}

export function progressLine(p: ProgressEvent): string {
  const percent = percentOf(p)
  return `progress ${percent}% (${formatBytes(p.totalSent)} of ${formatBytes(p.totalBytes)}) ${p.filename}`
}

function percentOf(p: ProgressEvent): number {
  return p.totalBytes === 0 ? 100 : Math.floor((p.totalSent / p.totalBytes) * 100)
}

function lines(stream: NodeJS.WritableStream): Progress {
  let lastStep = -1
  return {
    update(p) {
      const percent = percentOf(p)
      const step = Math.floor(percent / LINE_STEP_PERCENT)
      if (step <= lastStep) return
      lastStep = step
      stream.write(`${progressLine(p)}\n`)
    },
    stop() {},
  }
}

function bar(stream: NodeJS.WritableStream): Progress {
  const b = new cliProgress.SingleBar(
    {
      stream,
      format: 'sending [{bar}] {percentage}% {sent}/{size} {eta_formatted} {file}',
      hideCursor: true,
      clearOnComplete: false,
      // the bar is chosen only for a terminal; this keeps it drawing where a terminal is emulated
      noTTYOutput: true,
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(p) {
      const payload = { sent: formatBytes(p.totalSent), size: formatBytes(p.totalBytes), file: p.filename }
      if (!started) {
        b.start(p.totalBytes, p.totalSent, payload)
        started = true
      } else b.update(p.totalSent, payload)
    },
    stop() {
      if (started) b.stop()
    },
  }
}

export function createProgress(mode: ProgressMode, stream: NodeJS.WritableStream): Progress {
  if (mode === 'lines') return lines(stream)
  if (mode === 'bar') return bar(stream)
  return { update() {}, stop() {} }
}
