import { type Stats, unwatchFile, watchFile } from 'node:fs'

/**
 * Calls `onChange` when any of the files changes. It polls the files' stat (fs.watchFile) rather
 * than using inotify-style events, because editors save by writing a new file and renaming it over
 * the old one, which such events lose; a change is seen within `intervalMs`, then settled for
 * `settleMs` so a file being written is read once it is whole.
 */
export interface FileWatcher {
  /** watch these files from now on (the catalogue names certificate files that may come and go) */
  watch(files: readonly string[]): void
  close(): void
}

export function watchFiles(
  onChange: () => void,
  opts: { intervalMs?: number; settleMs?: number } = {},
): FileWatcher {
  const interval = opts.intervalMs ?? 500
  const settle = opts.settleMs ?? 150
  const watched = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  const listener = (current: Stats, previous: Stats) => {
    const changed =
      current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino
    if (!changed) return
    clearTimeout(timer)
    timer = setTimeout(onChange, settle)
    timer.unref()
  }
  return {
    watch(files) {
      const wanted = new Set(files)
      for (const file of watched) {
        if (wanted.has(file)) continue
        unwatchFile(file, listener)
        watched.delete(file)
      }
      for (const file of wanted) {
        if (watched.has(file)) continue
        watchFile(file, { interval, persistent: false }, listener)
        watched.add(file)
      }
    },
    close() {
      clearTimeout(timer)
      for (const file of watched) unwatchFile(file, listener)
      watched.clear()
    },
  }
}
