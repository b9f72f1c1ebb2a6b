/**
 * Whether `work` ended within `ms` (no limit when undefined); it goes on either way. Used to bound a
 * stop: the HTTP server's close, the workers' drain and the database's close each get their share of
 * the shutdown grace period, and what is still running then is abandoned (src/ops/shutdown.ts says why
 * that is safe).
 */
export async function endsWithin(work: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) {
    await work
    return true
  }
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([work.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once `stream` takes writes again ('drain'), or is gone ('close'): a write that returned false is then safe to follow. */
export function drained(stream: NodeJS.WritableStream & NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const go = (): void => {
      stream.off('drain', go).off('close', go)
      resolve()
    }
    stream.on('drain', go).on('close', go)
  })
}
