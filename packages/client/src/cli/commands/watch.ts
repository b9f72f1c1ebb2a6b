import { setTimeout as delay } from 'node:timers/promises'
import { type Command, Option } from 'commander'
import type { IntegrasjonspunktClient, MessageStatus } from '../../index.js'
import type { CommandContext } from '../context.js'
import { EXIT, UsageError } from '../exit.js'
import { statusLine } from '../format.js'
import { integer, type Runner } from './shared.js'

interface WatchOptions {
  service?: string
  interval: number
  queue?: boolean
  sinceId?: number
}

const PAGE_SIZE = 500

const EXAMPLES = `
Examples:
  # every new status of every message, until Ctrl-C
  $ integrasjonspunkt-client watch
  # only DPO messages, as JSON lines, asking every 5 s
  $ integrasjonspunkt-client watch --service DPO --interval 5000 --json
  # take statuses from the status queue (each printed status is removed from it)
  $ integrasjonspunkt-client watch --queue`

/**
 * Statuses with an id above `lastId`, oldest first. The API filters `id` only by equality, so this
 * reads pages newest first until it reaches one it has seen.
 */
export async function statusesAfter(
  client: IntegrasjonspunktClient,
  lastId: number,
): Promise<MessageStatus[]> {
  const found: MessageStatus[] = []
  for (let page = 0; ; page++) {
    const { content, last } = await client.statusList({ sort: 'id,desc', size: PAGE_SIZE, page })
    const newer = content.filter((s) => s.id > lastId)
    found.push(...newer)
    if (last || newer.length < content.length || content.length === 0) break
  }
  return found.sort((a, b) => a.id - b.id)
}

/** Statuses carry no service; their conversation does. Remembered per message. */
function serviceFilter(ctx: CommandContext, service: string | undefined) {
  const known = new Map<string, string | undefined>()
  return async (s: MessageStatus): Promise<boolean> => {
    if (service === undefined) return true
    if (!known.has(s.messageId)) {
      const page = await ctx.client.conversations({ messageId: s.messageId, size: 1 })
      known.set(s.messageId, page.content[0]?.serviceIdentifier)
    }
    return known.get(s.messageId) === service
  }
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined)
}

async function tail(ctx: CommandContext, opts: WatchOptions, signal: AbortSignal): Promise<void> {
  const matches = serviceFilter(ctx, opts.service)
  let lastId = opts.sinceId ?? (await ctx.client.statusList({ sort: 'id,desc', size: 1 })).content[0]?.id ?? 0
  while (!signal.aborted) {
    for (const s of await statusesAfter(ctx.client, lastId)) {
      lastId = Math.max(lastId, s.id)
      if (await matches(s)) ctx.result(() => statusLine(s, true), s)
    }
    await sleep(opts.interval, signal)
  }
}

async function drainQueue(ctx: CommandContext, opts: WatchOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const s = await ctx.client.peekStatus()
    if (s === undefined) {
      await sleep(opts.interval, signal)
      continue
    }
    ctx.result(() => statusLine(s, true), s)
    await ctx.client.deleteStatus(s.id)
  }
}

async function watch(ctx: CommandContext, opts: WatchOptions): Promise<number> {
  if (opts.queue && opts.service !== undefined) {
    throw new UsageError('--service cannot be used with --queue: the queue hands out every status in turn')
  }
  const interruption = ctx.interruption()
  ctx.note(`Watching statuses at ${ctx.client.url}${opts.queue ? ' (status queue)' : ''} (Ctrl-C stops)`)
  try {
    if (opts.queue) await drainQueue(ctx, opts, interruption.signal)
    else await tail(ctx, opts, interruption.signal)
  } finally {
    interruption.dispose()
  }
  return EXIT.interrupted
}

export function registerWatch(program: Command, run: Runner): void {
  program
    .command('watch')
    .summary('tail the statuses of all messages')
    .description(
      'Print each new status of any message as it comes (time, messageId, status, description; --json: ' +
        "one JSON line per status, the API's MessageStatus), until Ctrl-C.",
    )
    .option(
      '--service <service>',
      'only statuses of messages over this service (DPO, DPV, DPI, DPF, DPE, DPH)',
    )
    .addOption(
      new Option('--interval <ms>', 'how often to ask for new statuses')
        .argParser(integer('--interval', 1))
        .default(2000),
    )
    .option(
      '--queue',
      'read the status queue instead, removing each status printed (GET/DELETE /api/statuses/peek)',
    )
    .addOption(
      new Option(
        '--since-id <id>',
        'start after this status id (default: the newest now; 0 prints all)',
      ).argParser(integer('--since-id')),
    )
    .addHelpText('after', EXAMPLES)
    .action(run((ctx, opts: WatchOptions) => watch(ctx, opts)))
}
