import { type Command, Option } from 'commander'
import type { CommandContext } from '../context.js'
import { CliError, EXIT } from '../exit.js'
import { type FollowCommandOptions, followStatuses, parseUntil } from '../follow.js'
import { statusTable } from '../format.js'
import { integer, type Runner } from './shared.js'

interface StatusOptions extends FollowCommandOptions {
  follow?: boolean
}

const EXAMPLES = `
Examples:
  $ integrasjonspunkt-client status 6f1c2a9e-3c61-4d6b-9a55-0f3c8f1b2e7d
  # wait for the final status; exit 4 if it is FEIL or LEVETID_UTLOPT
  $ integrasjonspunkt-client status 6f1c2a9e-3c61-4d6b-9a55-0f3c8f1b2e7d --follow
  $ integrasjonspunkt-client status 6f1c2a9e-3c61-4d6b-9a55-0f3c8f1b2e7d --json | jq -r '.[-1].status'`

async function status(ctx: CommandContext, messageId: string, opts: StatusOptions): Promise<number> {
  const statuses = await ctx.client.statuses(messageId)
  // an unknown messageId has no statuses (the API answers an empty page, not 404)
  if (statuses.length === 0) {
    throw new CliError(`no message with messageId ${messageId} at ${ctx.client.url}`, EXIT.refused)
  }
  if (!opts.follow) {
    ctx.result(() => statusTable(statuses), statuses)
    return EXIT.ok
  }
  const interruption = ctx.interruption()
  try {
    return await followStatuses(ctx, messageId, { ...opts, signal: interruption.signal })
  } finally {
    interruption.dispose()
  }
}

export function registerStatus(program: Command, run: Runner): void {
  program
    .command('status')
    .summary("a message's status timeline")
    .description(
      "Show the statuses of the message MESSAGE_ID, oldest first (--json: an array of the API's " +
        'MessageStatus objects; with --follow one JSON line per status).',
    )
    .argument('<messageId>', "the messageId (the SBD's instanceIdentifier)")
    .option(
      '--follow',
      'keep showing new statuses until the conversation is finished; exit 4 on FEIL or LEVETID_UTLOPT',
    )
    .addOption(
      new Option(
        '--until <statuses>',
        'with --follow: go on until one of these (or FEIL, LEVETID_UTLOPT, LEST), e.g. LEST',
      ).argParser(parseUntil),
    )
    .addOption(
      new Option('--interval <ms>', 'with --follow: how often to ask for new statuses').argParser(
        integer('--interval', 1),
      ),
    )
    .addHelpText('after', EXAMPLES)
    .action(run((ctx, messageId: string, opts: StatusOptions) => status(ctx, messageId, opts)))
}
