import { randomUUID } from 'node:crypto'
import { openStandInDb } from '../sqlite-steps.js'

/**
 * The stand-in's queues in SQLite under dataDir (`service-bus.sqlite`), so a restart loses nothing.
 * A lock lives in its message's row (token and expiry, times from the injected clock), so an expired
 * lock needs no reaper: the next peek simply takes the message again. A dead-lettered message stays
 * in its queue's rows with a flag, as Azure keeps it in the queue's `$DeadLetterQueue` sub-queue.
 */
export interface MessageRow {
  queue: string
  /** Azure's SequenceNumber: per queue, from 1, never reused */
  seq: number
  message_id: string
  body: Buffer
  content_type: string | null
  /** the sender's BrokerProperties (JSON) without the ones the broker sets */
  properties: string
  enqueued: number
  /** epoch ms after which it is dropped unread (Azure's default: no dead-lettering on expiry) */
  expires: number
  delivery_count: number
  lock_token: string | null
  locked_until: number | null
  dead_lettered: 0 | 1
  dead_letter_reason: string | null
}

export interface QueueCounts {
  name: string
  created: number
  /** waiting to be taken (not locked) */
  active: number
  /** taken and locked now */
  locked: number
  /** in the queue's `$DeadLetterQueue` */
  deadLettered: number
}

export interface NewMessage {
  messageId: string | undefined
  body: Buffer
  contentType: string | null
  properties: Record<string, unknown>
  timeToLiveMs: number
}

/** Which messages a call addresses: the queue itself or its dead-letter sub-queue. */
export interface Entity {
  queue: string
  deadLetter: boolean
}

const MIGRATIONS = [
  `CREATE TABLE queue (name TEXT PRIMARY KEY, created INTEGER NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE message (
     queue TEXT NOT NULL REFERENCES queue (name), seq INTEGER NOT NULL, message_id TEXT NOT NULL,
     body BLOB NOT NULL, content_type TEXT, properties TEXT NOT NULL, enqueued INTEGER NOT NULL,
     expires INTEGER NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 0, lock_token TEXT, locked_until INTEGER,
     dead_lettered INTEGER NOT NULL DEFAULT 0, dead_letter_reason TEXT, PRIMARY KEY (queue, seq));
   CREATE UNIQUE INDEX message_lock ON message (lock_token);
   CREATE INDEX message_ready ON message (queue, dead_lettered, seq);`,
]

/** a lock is current while `locked_until` is after now; the id is the MessageId or the SequenceNumber */
const LOCKED = `queue = @queue AND dead_lettered = @dead AND lock_token = @token AND locked_until > @now
  AND (message_id = @id OR CAST(seq AS TEXT) = @id)`

export type ServiceBusStore = ReturnType<typeof openServiceBusStore>

export function openServiceBusStore(dataDir: string) {
  const db = openStandInDb(dataDir, 'service-bus.sqlite', MIGRATIONS, { foreignKeys: true })
  const ensure = db.prepare('INSERT OR IGNORE INTO queue (name, created) VALUES (?, ?)')
  const next = db.prepare('UPDATE queue SET last_seq = last_seq + 1 WHERE name = ? RETURNING last_seq')
  // a message past its time to live goes unless someone holds it; Azure drops it by default
  const sweep = db.prepare(
    'DELETE FROM message WHERE expires <= @now AND (locked_until IS NULL OR locked_until <= @now)',
  )
  const oldest = db.prepare(
    `SELECT * FROM message WHERE queue = ? AND dead_lettered = ? AND (locked_until IS NULL OR locked_until <= ?)
     ORDER BY seq LIMIT 1`,
  )
  const deadLetter = db.prepare(
    `UPDATE message SET dead_lettered = 1, dead_letter_reason = ?, lock_token = NULL, locked_until = NULL
     WHERE queue = ? AND seq = ?`,
  )
  const lock = db.prepare(
    `UPDATE message SET lock_token = ?, locked_until = ?, delivery_count = delivery_count + 1
     WHERE queue = ? AND seq = ? RETURNING *`,
  )
  const params = (e: Entity, id: string, token: string, now: number) => ({
    queue: e.queue,
    dead: e.deadLetter ? 1 : 0,
    id,
    token,
    now,
  })
  return {
    /** creates the queue on first use, as the sandbox's Service Bus does for any name */
    ensureQueue: (name: string, now: number) => void ensure.run(name, now),
    send: db.transaction((queue: string, m: NewMessage, now: number): MessageRow => {
      ensure.run(queue, now)
      const { last_seq: seq } = next.get(queue) as { last_seq: number }
      return db
        .prepare(
          `INSERT INTO message (queue, seq, message_id, body, content_type, properties, enqueued, expires)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          queue,
          seq,
          m.messageId ?? randomUUID().replaceAll('-', ''),
          m.body,
          m.contentType,
          JSON.stringify(m.properties),
          now,
          now + m.timeToLiveMs,
        ) as MessageRow
    }),
    /**
     * Locks the oldest available message for `lockMs` and counts the delivery. A message already
     * delivered `maxDeliveryCount` times goes to the dead-letter sub-queue instead, and the next one is
     * tried; messages in the sub-queue are never dead-lettered again.
     */
    peekLock: db.transaction(
      (e: Entity, now: number, lockMs: number, maxDeliveryCount: number): MessageRow | undefined => {
        ensure.run(e.queue, now)
        sweep.run({ now })
        for (;;) {
          const row = oldest.get(e.queue, e.deadLetter ? 1 : 0, now) as MessageRow | undefined
          if (!row) return undefined
          if (!e.deadLetter && row.delivery_count >= maxDeliveryCount) {
            deadLetter.run('MaxDeliveryCountExceeded', row.queue, row.seq)
            continue
          }
          return lock.get(randomUUID(), now + lockMs, row.queue, row.seq) as MessageRow
        }
      },
    ),
    /** deletes a message whose lock is current; false when the message or the lock is unknown or gone */
    complete: (e: Entity, id: string, token: string, now: number) =>
      db.prepare(`DELETE FROM message WHERE ${LOCKED}`).run(params(e, id, token, now)).changes === 1,
    /** gives a locked message back at once (its delivery stays counted) */
    unlock: (e: Entity, id: string, token: string, now: number) =>
      db
        .prepare(`UPDATE message SET lock_token = NULL, locked_until = NULL WHERE ${LOCKED}`)
        .run(params(e, id, token, now)).changes === 1,
    /** extends a current lock by `lockMs` from now; the new expiry, or undefined when the lock is gone */
    renew: (e: Entity, id: string, token: string, now: number, lockMs: number) =>
      (
        db
          .prepare(`UPDATE message SET locked_until = @until WHERE ${LOCKED} RETURNING locked_until`)
          .get({ ...params(e, id, token, now), until: now + lockMs }) as { locked_until: number } | undefined
      )?.locked_until,
    /** every queue with its counts, by name */
    queues: (now: number): QueueCounts[] => {
      sweep.run({ now })
      return db
        .prepare(
          `SELECT q.name, q.created,
             COUNT(m.seq) FILTER (WHERE m.dead_lettered = 0 AND (m.locked_until IS NULL OR m.locked_until <= @now)) AS active,
             COUNT(m.seq) FILTER (WHERE m.dead_lettered = 0 AND m.locked_until > @now) AS locked,
             COUNT(m.seq) FILTER (WHERE m.dead_lettered = 1) AS deadLettered
           FROM queue q LEFT JOIN message m ON m.queue = q.name GROUP BY q.name ORDER BY q.name`,
        )
        .all({ now }) as QueueCounts[]
    },
    queueExists: (name: string) => db.prepare('SELECT 1 FROM queue WHERE name = ?').get(name) !== undefined,
    /** a queue's messages, its dead-lettered ones included, oldest first */
    messages: (queue: string, now: number) => {
      sweep.run({ now })
      return db.prepare('SELECT * FROM message WHERE queue = ? ORDER BY seq').all(queue) as MessageRow[]
    },
    close: () => db.close(),
  }
}
