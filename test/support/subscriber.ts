import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request a test subscriber got. */
export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  json: any
  /** the status the subscriber answered */
  answered: number
}

/**
 * A fagsystem's webhook receiver: a real HTTP server that records every POST. It can answer an error
 * (`answer`), or go down and come back on the same port (`down()`, `up()`): connections are refused
 * meanwhile, as when the fagsystem is stopped.
 */
export interface Subscriber {
  /** base URL, e.g. `http://127.0.0.1:34567`; push endpoints are paths under it */
  url: string
  received: Received[]
  /** decides the answer per request (200 unless it says otherwise) */
  answer: (r: Omit<Received, 'answered'>) => number
  /** the events (parsed bodies) that were answered 2xx on a path, pings left out */
  delivered(path: string): Received[]
  down(): Promise<void>
  up(): Promise<void>
  close(): Promise<void>
}

export async function startSubscriber(): Promise<Subscriber> {
  let server: Server | null = null
  let port = 0
  const self: Subscriber = {
    url: '',
    received: [],
    answer: () => 200,
    delivered: (path) =>
      self.received.filter((r) => r.path === path && r.answered < 300 && r.json?.event !== 'ping'),
    async down() {
      if (!server) return
      const s = server
      server = null
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    },
    async up() {
      if (server) return
      server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          let json: unknown
          try {
            json = JSON.parse(body)
          } catch {
            json = undefined
          }
          const r = { path: req.url ?? '', headers: req.headers, body, json }
          const answered = self.answer(r)
          self.received.push({ ...r, answered })
          res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered < 300 ? 'ok' : 'nei')
        })
      })
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve))
      port = (server.address() as AddressInfo).port
      self.url = `http://127.0.0.1:${port}`
    },
    close: () => self.down(),
  }
  await self.up()
  return self
}
