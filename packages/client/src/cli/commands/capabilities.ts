import { type Command, Option } from 'commander'
import type { CommandContext } from '../context.js'
import { EXIT } from '../exit.js'
import { capabilitiesTable } from '../format.js'
import { integer, type Runner } from './shared.js'

interface CapabilitiesOptions {
  process?: string
  securityLevel?: number
}

const EXAMPLES = `
Examples:
  $ integrasjonspunkt-client capabilities 910077473
  $ integrasjonspunkt-client capabilities 910077473 --process urn:no:difi:profile:arkivmelding:administrasjon:ver1.0
  $ integrasjonspunkt-client capabilities 910077473 --json | jq -r '.capabilities[].serviceIdentifier'`

async function capabilities(
  ctx: CommandContext,
  receiver: string,
  opts: CapabilitiesOptions,
): Promise<number> {
  const caps = await ctx.client.capabilities(receiver, {
    ...(opts.process !== undefined && { process: opts.process }),
    ...(opts.securityLevel !== undefined && { securityLevel: opts.securityLevel }),
  })
  ctx.result(() => capabilitiesTable(caps, opts.securityLevel), caps)
  return EXIT.ok
}

export function registerCapabilities(program: Command, run: Runner): void {
  program
    .command('capabilities')
    .summary('what a receiver can receive')
    .description(
      'Show which services, processes and document types RECEIVER can receive, as the ServiceRegistry ' +
        "tells the integration point (--json: the API's JSON).",
    )
    .argument('<receiver>', 'an organisation number (9 digits) or a fødselsnummer (11 digits)')
    .option('--process <urn>', 'only this process')
    .addOption(
      new Option('--security-level <n>', 'the security level the message needs (3 or 4)').argParser(
        integer('--security-level', 1),
      ),
    )
    .addHelpText('after', EXAMPLES)
    .action(run((ctx, receiver: string, opts: CapabilitiesOptions) => capabilities(ctx, receiver, opts)))
}
