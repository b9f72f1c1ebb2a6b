// The status port a channel's status pollers use (src/channels/ports.ts): the outgoing conversations of
// one service that are still polled, and the statuses the service reports for them.

import type { StatusPort, StatusUpdate } from '../channels/ports.js'
import type { Db, Executor } from '../db/open.js'
import type { Clock } from '../util/time.js'
import { conversationsByMessageId, registerStatus, statusesOf } from './repository.js'

export function createStatusPort(deps: { db: Db; clock: Clock }, service: string): StatusPort {
  const db = deps.db.kysely
  const now = () => deps.clock.now().getTime()
  return {
    async pollable({ limit, after }) {
      // polling ends when the message's lifetime does: LEVERT finishes a conversation, LEST would stop
      // the polling, and a LEST that never comes must not keep it polled for ever
      await db
        .updateTable('conversations')
        .set({ pollable: 0, last_update: now() })
        .where('service_identifier', '=', service)
        .where('direction', '=', 'OUTGOING')
        .where('pollable', '=', 1)
        .where('expiry', '<', now())
        .execute()
      let q = db
        .selectFrom('conversations')
        .select(['id', 'message_id', 'external_system_reference'])
        .where('service_identifier', '=', service)
        .where('direction', '=', 'OUTGOING')
        .where('pollable', '=', 1)
        .where('external_system_reference', 'is not', null)
        .orderBy('message_id')
        .limit(limit)
      if (after !== undefined) q = q.where('message_id', '>', after)
      const rows = await q.execute()
      const statuses = await statusesOf(
        db,
        rows.map((r) => r.id),
      )
      const types = await typesOf(
        db,
        rows.map((r) => r.message_id),
      )
      return rows.map((r) => ({
        messageId: r.message_id,
        reference: r.external_system_reference!,
        type: types.get(r.message_id) ?? null,
        statuses: statuses.filter((s) => s.conversation_fk === r.id).map((s) => s.status),
      }))
    },
    async register(messageId, updates, opts) {
      return db.transaction().execute(async (trx) => {
        const added = await registerAll(trx, messageId, updates, now())
        if (opts?.stopPolling) await stopPolling(trx, messageId, now())
        return added
      })
    },
    stopPolling: (messageId) => stopPolling(db, messageId, now()),
  }
}

async function stopPolling(db: Executor, messageId: string, now: number): Promise<void> {
  await db
    .updateTable('conversations')
    .set({ pollable: 0, last_update: now })
    .where('message_id', '=', messageId)
    .where('direction', '=', 'OUTGOING')
    .execute()
}

/** Registers each status on the message's outgoing conversations; returns the ones that were new. */
export async function registerAll(
  trx: Executor,
  messageId: string,
  updates: readonly StatusUpdate[],
  now: number,
): Promise<string[]> {
  const added: string[] = []
  for (const c of await conversationsByMessageId(trx, messageId, 'OUTGOING')) {
    for (const u of updates) {
      const row = await registerStatus(
        trx,
        c,
        { status: u.status, description: u.description ?? null, rawReceipt: u.rawReceipt ?? null },
        now,
      )
      if (row) added.push(u.status)
    }
  }
  return added
}

/**
 * The business message type of each conversation's message, from the kept SBD: the outgoing message is
 * gone once sent, so the type is read from the conversation's document identifier.
 */
async function typesOf(db: Executor, messageIds: string[]): Promise<Map<string, string>> {
  if (messageIds.length === 0) return new Map()
  const rows = await db
    .selectFrom('conversations')
    .select(['message_id', 'document_identifier'])
    .where('message_id', 'in', messageIds)
    .where('direction', '=', 'OUTGOING')
    .execute()
  return new Map(rows.map((r) => [r.message_id, typeFromDocumentIdentifier(r.document_identifier)]))
}

/** `urn:no:difi:arkivmelding:xsd::arkivmelding` → `arkivmelding` (the part after `::`) */
function typeFromDocumentIdentifier(documentIdentifier: string | null): string {
  const at = documentIdentifier?.lastIndexOf('::') ?? -1
  return at >= 0 ? documentIdentifier!.slice(at + 2) : (documentIdentifier ?? '')
}
