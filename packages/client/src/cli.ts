#!/usr/bin/env node
/**
 * The `integrasjonspunkt-client` command. Ctrl-C or SIGTERM asks the running command to stop cleanly
 * (a message being received is given back); a second one, or one while nothing can be stopped, ends
 * the process at once. Either way the exit code is 130.
 */
import type { Io } from './cli/context.js'
import { EXIT } from './cli/exit.js'
import { run } from './cli/program.js'

const listeners = new Set<() => void>()
let stopping = false

function onSignal(): void {
  if (stopping || listeners.size === 0) process.exit(EXIT.interrupted)
  stopping = true
  process.stderr.write('\nstopping (again to quit at once)\n')
  for (const listener of listeners) listener()
}
// `integrasjonspunkt-client ... | head` closes the pipe early: that is the reader's choice, not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const io: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  onInterrupt(listener) {
    listeners.add(listener)
    return () => listeners.delete(listener)
  },
}

process.exitCode = await run(process.argv, io)
