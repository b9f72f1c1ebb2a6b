import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Command, Option } from 'commander'
import {
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookEvent,
} from '../../webhook-receiver.js'
import type { CommandContext } from '../context.js'
import { EXIT } from '../exit.js'
import { integer, type Runner } from './shared.js'

interface ListenOptions {
  port: number
  host: string
  secret?: string
}

/** an event is a small JSON document; anything larger is not one */
const MAX_BODY = 1024 * 1024

const EXAMPLES = `
Examples:
  # in one terminal: print each event, checking its signature
  $ integrasjonspunkt-client listen --port 8080 --secret bytt-meg-ut-med-noe-langt
  # in another: subscribe that URL with the same secret
  $ curl -H 'Content-Type: application/json' -d '{"name": "test", "pushEndpoint": "http://127.0.0.1:8080/hooks",
      "resource": "all", "event": "all", "secret": "bytt-meg-ut-med-noe-langt"}' http://localhost:9093/api/subscriptions`

/** The line printed for one event. */
function eventLine(e: WebhookEvent, signature: string): string {
  if (e.event === 'ping') return `${e.createdTs}  ping${signature}`
  const description = e.description ? `  ${e.description}` : ''
  return `${e.createdTs}  ${e.messageId}  ${e.serviceIdentifier} ${e.direction}  ${e.status}${description}${signature}`
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** Answers one delivery: 200 once printed; 401 for a bad signature, so the integration point retries it. */
async function deliver(ctx: CommandContext, opts: ListenOptions, req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'POST') return res.writeHead(405, { allow: 'POST' }).end()
  const body = await readBody(req)
  if (body === undefined) return res.writeHead(413).end()
  let event: WebhookEvent
  try {
    event = JSON.parse(body.toString('utf8')) as WebhookEvent
  } catch {
    ctx.note(`refused a POST to ${req.url} that is not JSON`)
    return res.writeHead(400).end()
  }
  let signature = ''
  if (opts.secret !== undefined) {
    const header = req.headers[WEBHOOK_SIGNATURE_HEADER]
    if (!verifyWebhookSignature(body, opts.secret, typeof header === 'string' ? header : undefined)) {
      ctx.note(`refused an event with a ${header ? 'wrong' : 'missing'} signature (id ${event.id ?? '?'})`)
      return res.writeHead(401).end()
    }
    signature = '  (signature ok)'
  }
  ctx.result(() => eventLine(event, signature), { ...event, signatureChecked: opts.secret !== undefined })
  res.writeHead(200).end()
}

async function listen(ctx: CommandContext, opts: ListenOptions): Promise<number> {
  const server = createServer((req, res) => {
    deliver(ctx, opts, req, res).catch(() => res.destroy())
  })
  server.listen(opts.port, opts.host)
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const checks = opts.secret === undefined ? 'signatures not checked (--secret)' : 'checking signatures'
  ctx.note(`Listening for webhook events on http://${opts.host}:${port}/ (any path; ${checks}; Ctrl-C stops)`)
  const interruption = ctx.interruption()
  try {
    await once(interruption.signal, 'abort')
  } finally {
    interruption.dispose()
    server.closeAllConnections()
    server.close()
  }
  return EXIT.interrupted
}

export function registerListen(program: Command, run: Runner): void {
  program
    .command('listen')
    .summary('receive webhook events and print them')
    .description(
      'Run a small HTTP server that takes the events a webhook subscription POSTs (at any path), checks ' +
        'their signature with --secret, and prints each (--json: one JSON line per event), until Ctrl-C.',
    )
    .addOption(new Option('--port <port>', 'port to listen on').argParser(integer('--port')).default(8080))
    .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
    .option('--secret <secret>', "the subscription's secret: events without its signature are refused (401)")
    .addHelpText('after', EXAMPLES)
    .action(run((ctx, opts: ListenOptions) => listen(ctx, opts)))
}
