/**
 * "Address already in use" anywhere in an error's causes (a start wraps the listen error it got):
 * the port that is taken (-1 when the error does not name it), or undefined.
 */
export function takenPort(error: unknown): number | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const errno = e as NodeJS.ErrnoException & { port?: number }
    if (errno.code === 'EADDRINUSE') return errno.port ?? -1
  }
  return undefined
}
