import type { InMessageRow } from '../../db/schema.js'
import { oneOf, type Query, str } from '../../http/query.js'
import { SERVICE_IDENTIFIERS } from '../../sbd/types.js'
import type { InFilter } from './repository.js'

/** Sort properties of `GET /api/messages/in` (the reference's entity field names) and their columns. */
export const IN_SORT: Record<string, keyof InMessageRow> = {
  id: 'id',
  lastUpdated: 'last_updated',
  messageId: 'message_id',
  conversationId: 'conversation_id',
  processIdentifier: 'process_identifier',
  receiverIdentifier: 'receiver_identifier',
  senderIdentifier: 'sender_identifier',
  serviceIdentifier: 'service_identifier',
}

/**
 * The filters of list, peek and unlock (§2.8): equality on each parameter given, AND-combined. An
 * unknown `serviceIdentifier` is a 400 binding error (the reference answers 500).
 */
export function inFilter(query: Query): InFilter {
  const eq: [keyof InMessageRow, string | undefined][] = [
    ['message_id', str(query, 'messageId')],
    ['conversation_id', str(query, 'conversationId')],
    ['receiver_identifier', str(query, 'receiverIdentifier')],
    ['sender_identifier', str(query, 'senderIdentifier')],
    [
      'service_identifier',
      oneOf(query, 'serviceIdentifier', [...SERVICE_IDENTIFIERS, 'UNKNOWN'] as const, 'ServiceIdentifier'),
    ],
    ['process_identifier', str(query, 'process')],
  ]
  const given = eq.filter(([, value]) => value !== undefined)
  return (q) => {
    for (const [column, value] of given) q = q.where(column, '=', value!)
    return q
  }
}
