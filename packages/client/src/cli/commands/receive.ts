import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { type IncomingMessage, type ReceiveOptions, UnsafePackageError } from '../../index.js'
import type { CommandContext } from '../context.js'
import { EXIT } from '../exit.js'
import { type SavedMessage, saveMessage } from '../receive-save.js'
import { integer, type Runner } from './shared.js'

type Filter = NonNullable<ReceiveOptions['filter']>

interface ReceiveCommandOptions {
  out: string
  once?: boolean
  filter?: Filter
  keep?: boolean
  interval?: number
}

/** The peek filters of the API (`GET /api/messages/in/peek`), as `--filter key=value`. */
export const FILTER_KEYS = [
  'serviceIdentifier',
  'process',
  'conversationId',
  'messageId',
  'senderIdentifier',
  'receiverIdentifier',
] as const satisfies readonly (keyof Filter)[]

/** Commander's accumulator for repeated `--filter key=value`. */
export function addFilter(value: string, previous: Filter | undefined): Filter {
  const eq = value.indexOf('=')
  const key = value.slice(0, Math.max(eq, 0))
  if (eq < 1 || !(FILTER_KEYS as readonly string[]).includes(key)) {
    throw new InvalidArgumentError(`--filter takes key=value, with key one of ${FILTER_KEYS.join(', ')}`)
  }
  return { ...previous, [key]: value.slice(eq + 1) }
}

const EXAMPLES = `
Examples:
  # take every waiting message into ./inbox, then stop
  $ integrasjonspunkt-client receive --out inbox --once
  # keep receiving DPO messages of one process until Ctrl-C
  $ integrasjonspunkt-client receive --out inbox --filter serviceIdentifier=DPO \\
      --filter process=urn:no:difi:profile:arkivmelding:administrasjon:ver1.0
  # look without taking: write them, then give them back to the queue
  $ integrasjonspunkt-client receive --out inbox --once --keep --json`

function report(ctx: CommandContext, m: IncomingMessage, saved: SavedMessage, keep: boolean): void {
  const action = keep ? 'unlocked' : 'deleted'
  const from = m.sender ? ` from ${m.sender}` : ''
  const over = m.serviceIdentifier ? ` over ${m.serviceIdentifier}` : ''
  const n = saved.files.length
  ctx.result(
    `Received ${m.messageId} (${m.type})${from}${over}: ${n} document${n === 1 ? '' : 's'} in ${saved.dir} (${action})`,
    {
      messageId: m.messageId,
      conversationId: m.conversationId,
      type: m.type,
      sender: m.sender,
      receiver: m.receiver,
      serviceIdentifier: m.serviceIdentifier,
      dir: saved.dir,
      files: saved.files,
      action,
    },
  )
}

/**
 * A package that must not be written fails the same way on every run: it is rejected, so the
 * integration point records FEIL with the reason and the sender hears FEIL, and the run goes on.
 */
async function reject(
  ctx: CommandContext,
  m: IncomingMessage,
  error: UnsafePackageError,
  keep: boolean,
): Promise<void> {
  let recorded = false
  // --keep takes nothing out of the queue, this one neither
  if (keep) await m.unlock()
  else recorded = await m.reject(error.message)
  const outcome = recorded
    ? 'rejected: the integration point recorded FEIL with the reason and will not offer it again'
    : keep
      ? 'unlocked (--keep)'
      : 'the integration point has no reject (the reference): it was unlocked and will be offered again'
  const from = m.sender ? ` from ${m.sender}` : ''
  // a problem to see on stderr; one JSON line among the received ones under --json
  ctx.note(`Refused ${m.messageId} (${m.type})${from}: ${error.message}; ${outcome}`)
  if (ctx.json) {
    ctx.result('', {
      messageId: m.messageId,
      conversationId: m.conversationId,
      type: m.type,
      sender: m.sender,
      serviceIdentifier: m.serviceIdentifier,
      reason: error.message,
      action: recorded ? 'rejected' : 'unlocked',
    })
  }
}

async function receive(ctx: CommandContext, opts: ReceiveCommandOptions): Promise<number> {
  const out = resolve(opts.out)
  await mkdir(out, { recursive: true })
  const interruption = ctx.interruption()
  const { signal } = interruption
  if (!opts.once) ctx.note(`Receiving from ${ctx.client.url} into ${out} (Ctrl-C stops)`)
  let count = 0
  let rejected = 0
  try {
    const messages = ctx.client.receive({
      once: opts.once === true,
      signal,
      ...(opts.filter && { filter: opts.filter }),
      ...(opts.interval !== undefined && { pollIntervalMs: opts.interval }),
    })
    for await (const m of messages) {
      const saved = await saveMessage(m, out, signal).catch(async (error: unknown) => {
        if (!(error instanceof UnsafePackageError)) throw error
        await reject(ctx, m, error, opts.keep === true)
        rejected++
        return null
      })
      if (saved === null) continue
      // stopped before it was complete: leaving the loop gives the message back (the client unlocks it)
      if (!saved) break
      if (opts.keep) await m.unlock()
      else await m.delete()
      report(ctx, m, saved, opts.keep === true)
      count++
    }
  } finally {
    interruption.dispose()
  }
  if (signal.aborted) return EXIT.interrupted
  if (rejected > 0) return EXIT.rejected
  if (count === 0) ctx.note('No message is waiting.')
  return EXIT.ok
}

export function registerReceive(program: Command, run: Runner): void {
  program
    .command('receive')
    .summary('take incoming messages into a directory')
    .description(
      'Take incoming messages (peek, pop, delete): each is written to DIR/<messageId>/ (sbd.json and its ' +
        'documents) completely before it is deleted from the queue. Without --once it keeps waiting for new ' +
        'messages until Ctrl-C or SIGTERM, which stop it cleanly (a message not yet written is given back). ' +
        'One line per message (--json: one JSON line per message).',
    )
    .requiredOption('--out <dir>', 'where to write the messages (created if missing)')
    .option('--once', 'take what is waiting now, then stop')
    .addOption(
      new Option(
        '--filter <key=value>',
        `only messages with this value; repeatable; keys: ${FILTER_KEYS.join(', ')}`,
      ).argParser(addFilter),
    )
    .option('--keep', 'unlock each message after writing it instead of deleting it (it stays in the queue)')
    .addOption(
      new Option('--interval <ms>', 'how often to ask for new messages while waiting').argParser(
        integer('--interval', 1),
      ),
    )
    .addHelpText('after', EXAMPLES)
    .action(run((ctx, opts: ReceiveCommandOptions) => receive(ctx, opts)))
}
