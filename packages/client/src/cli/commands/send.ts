import { type Command, Option } from 'commander'
import { buildSbd, type TypedBusinessMessage } from '../../index.js'
import type { CommandContext } from '../context.js'
import { EXIT } from '../exit.js'
import { type FollowCommandOptions, followStatuses, parseUntil } from '../follow.js'
import { createProgress, progressMode } from '../progress.js'
import { DEFAULT_PROCESS, planSend, type SendArgs } from '../send-plan.js'
import { integer, type Runner } from './shared.js'

interface SendOptions extends Omit<SendArgs, 'files'>, FollowCommandOptions {
  to: string
  from?: string
  conversationId?: string
  messageId?: string
  progress?: boolean
  wait?: boolean
}

const EXAMPLES = `
Examples:
  # a case message (arkivmelding) with a main document and an attachment; arkivmelding.xml is generated
  $ integrasjonspunkt-client send --to 910077473 --title "Vedtak om tilskudd" vedtak.pdf vedlegg.pdf

  # with your own arkivmelding.xml, then wait until it is delivered (exit 4 if it fails)
  $ integrasjonspunkt-client send --to 910077473 --arkivmelding arkivmelding.xml vedtak.pdf --wait

  # answer a received arkivmelding with a receipt (its sender then sees LEST)
  $ integrasjonspunkt-client send --to 910075918 --process urn:no:difi:profile:arkivmelding:response:ver1.0 \
      --business-message '{"receiptType": "OK", "relatedToMessageId": "<messageId>"}'

  # another process and message type, with extra business-message fields
  $ integrasjonspunkt-client send --to 910077473 --process urn:no:difi:profile:avtalt:avtalt:ver1.0 \\
      --business-message '{"identifier": "min-avtale", "content": {"tekst": "hei"}}' notat.txt

  # for scripts: the ids as JSON, progress lines on stderr
  $ integrasjonspunkt-client send --json --progress --to 910077473 stor-fil.pdf`

async function send(ctx: CommandContext, files: string[], opts: SendOptions): Promise<number> {
  const plan = planSend({ ...opts, files })
  const sbd = buildSbd({
    ...(opts.from !== undefined && { sender: opts.from }),
    receiver: opts.to,
    process: opts.process,
    ...(opts.messageId !== undefined && { messageId: opts.messageId }),
    ...(opts.conversationId !== undefined && { conversationId: opts.conversationId }),
    // the fields come from the command line: the server checks them, as it would any client's
    businessMessage: { type: plan.type, ...plan.businessMessage } as TypedBusinessMessage,
  })
  const mode = progressMode({
    forced: opts.progress === true,
    isTTY: ctx.io.stderr.isTTY === true,
    totalBytes: plan.totalBytes,
  })
  const progress = createProgress(mode, ctx.io.stderr)
  const interruption = ctx.interruption()
  try {
    const result = await ctx.client
      .send(sbd, plan.files, { onProgress: (p) => progress.update(p), signal: interruption.signal })
      .finally(() => progress.stop())
    const service = await serviceOf(ctx, result.messageId)
    ctx.result(
      `Sent ${result.messageId} (conversation ${result.conversationId}) to ${opts.to}` +
        (service ? ` over ${service}` : ''),
      { ...result, ...(service && { serviceIdentifier: service }) },
    )
    if (!opts.wait) return EXIT.ok
    return await followStatuses(ctx, result.messageId, { ...opts, signal: interruption.signal })
  } catch (err) {
    if (interruption.signal.aborted) return EXIT.interrupted
    throw err
  } finally {
    interruption.dispose()
  }
}

/** The service the integration point chose, for the person reading; the send stands without it. */
async function serviceOf(ctx: CommandContext, messageId: string): Promise<string | undefined> {
  try {
    return (await ctx.client.conversation(messageId))?.serviceIdentifier
  } catch {
    return undefined
  }
}

export function registerSend(program: Command, run: Runner): void {
  program
    .command('send')
    .summary('send a message with files')
    .description(
      'Send a message with FILEs to a receiver. For an arkivmelding (the default process) without ' +
        '--arkivmelding, an arkivmelding.xml listing the files is generated: the first file is the ' +
        'hoveddokument, the others vedlegg. Prints the messageId.',
    )
    .argument('[files...]', 'the documents, main document first')
    .requiredOption(
      '--to <receiver>',
      'the receiver: an organisation number (or 0192:orgnr) or a fødselsnummer',
    )
    .option('--from <sender>', "the sender (default: the integration point's own organisation)")
    .option('--process <urn>', 'the process', DEFAULT_PROCESS)
    .option('--type <type>', 'the message type (default: the one the process carries, e.g. arkivmelding)')
    .option('--title <title>', "the generated arkivmelding's title (default: the first file's name)")
    .option('--arkivmelding <file>', 'your own arkivmelding.xml instead of a generated one')
    .option('--business-message <json>', 'extra fields of the business message, as a JSON object')
    .option('--conversation-id <id>', 'the conversationId (default: a new UUID)')
    .option(
      '--message-id <id>',
      'the messageId (default: a new UUID); a retry with the same id never sends twice',
    )
    .option('--progress', 'write progress lines to stderr (even when it is not a terminal)')
    .option(
      '--wait',
      'follow the statuses until the conversation is finished (LEVERT, or FEIL, LEVETID_UTLOPT); exit 4 on ' +
        'FEIL or LEVETID_UTLOPT',
    )
    .addOption(
      new Option(
        '--until <statuses>',
        'with --wait: go on until one of these (or FEIL, LEVETID_UTLOPT, LEST), e.g. LEST',
      ).argParser(parseUntil),
    )
    .addOption(
      new Option('--interval <ms>', 'with --wait: how often to ask for new statuses').argParser(
        integer('--interval', 1),
      ),
    )
    .addHelpText('after', EXAMPLES)
    .action(run((ctx, files: string[], opts: SendOptions) => send(ctx, files, opts)))
}
