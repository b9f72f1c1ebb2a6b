import { connect, type Socket } from 'node:net'

/**
 * One raw TCP connection to a server, for requests no HTTP client would send (half a request, an
 * unknown method, a body that stalls) and for watching when the server closes the connection.
 */
export interface RawConnection {
  socket: Socket
  write(data: string | Buffer): void
  /** everything the server sent so far */
  received(): string
  /** resolves when the server closed the connection: milliseconds since it was opened */
  closed: Promise<number>
}

export async function openRaw(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const opened = Date.now()
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  // a reset is a close too: what matters is that the server let go of the connection
  socket.on('error', () => undefined)
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)))
  return {
    socket,
    write: (data) => socket.write(data),
    received: () => Buffer.concat(chunks).toString('utf8'),
    closed,
  }
}

/** Sends one request as given and reads the answer until the server closes the connection. */
export async function rawExchange(url: string, request: string | Buffer): Promise<RawAnswer> {
  const conn = await openRaw(url)
  conn.write(request)
  await conn.closed
  return parseAnswer(conn.received())
}

export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  json: any
}

export function parseAnswer(text: string): RawAnswer {
  const split = text.indexOf('\r\n\r\n')
  const head = split < 0 ? text : text.slice(0, split)
  const body = split < 0 ? '' : text.slice(split + 4)
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    json = undefined
  }
  return { status: Number(statusLine?.split(' ')[1]), headers, body, json }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
