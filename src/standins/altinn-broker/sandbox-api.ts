import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { toSandboxTransfer } from './mapper.js'
import { notFound } from './problem.js'
import type { TransferDeps } from './transfers.js'

/**
 * The stand-in's state as JSON for scripts and tests, with no token (docs/altinn-broker-standin.md,
 * "Sandbox API"): every file transfer, optionally only those from or to one organisation, each with
 * how many times its file was downloaded whole.
 */
export const SANDBOX_API = '/sandbox/api'

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>

export function registerSandboxApi(app: FastifyInstance, deps: TransferDeps): void {
  const json = (reply: FastifyReply, value: unknown) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value))
  const shown = (row: Parameters<typeof toSandboxTransfer>[0]) =>
    toSandboxTransfer(row, deps.store.recipients(row.id))
  app.get(`${SANDBOX_API}/filetransfers`, async (req: Req, reply) => {
    const { sender, recipient } = req.query
    const rows = deps.store.all({
      senders: sender ? orgForms(sender) : undefined,
      recipients: recipient ? orgForms(recipient) : undefined,
    })
    return json(reply, rows.map(shown))
  })
  app.get(`${SANDBOX_API}/filetransfers/:id`, async (req: Req, reply) => {
    const row = deps.store.transfer(req.params.id.toLowerCase())
    if (!row) throw notFound(`The file transfer ${req.params.id} was not found`)
    return json(reply, shown(row))
  })
}

/** An organisation as the broker may have it written: `0192:910075918` or `910075918`. */
function orgForms(org: string): string[] {
  const bare = org.replace(/^0192:/, '')
  return [bare, `0192:${bare}`]
}
