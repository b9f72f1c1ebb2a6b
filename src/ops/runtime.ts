import { setFlagsFromString } from 'node:v8'

/**
 * V8 settings for a process that streams large messages, set before its first command runs.
 *
 * `--no-concurrent-array-buffer-sweeping`: on Node.js 20 and 22, V8 frees dead buffers' memory on a
 * background thread and counts it as still in use until that thread is done; streaming a gigabyte
 * through pipes (a download to a file, a decryption, the pop's answer) then looks like "external
 * memory pressure" every few tens of megabytes, and each time V8 runs a full mark-compact. Measured on
 * a 1 GiB DPO message (bench/README.md, "Large messages, 2026-12-07"): the receiver made 187 full
 * collections and spent 9.5 CPU seconds, and about 5 with the buffers swept on the main thread, where
 * the sweep of a few dead buffers costs next to nothing. Node.js 24 collects buffers otherwise, and the
 * setting changes nothing there. V8 reads this flag each time it sweeps, so setting it after start-up
 * takes effect.
 */
export function tuneRuntime(): void {
  setFlagsFromString('--no-concurrent-array-buffer-sweeping')
}
