/** Polls `probe` until it returns something, for at most `ms`; the error names `what` it waited for. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what = 'a condition',
  ms = 20_000,
  stepMs = 25,
): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

type Json = Record<string, any>

/** A request whose answer is read as JSON (undefined when empty). */
export async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}
