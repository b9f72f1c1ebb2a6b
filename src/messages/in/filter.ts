import type { InMessageRow } from '../../db/schema.js'
import { bindQuery, type Query, type QueryParam } from '../../http/query.js'
import { SERVICE_IDENTIFIERS } from '../../sbd/types.js'
import type { InFilter } from './repository.js'

/**
 * The filters of list, peek and unlock: equality on each parameter given, AND-combined. An
 * unknown `serviceIdentifier` is a 400 binding error (the reference answers 500).
 */
export const IN_FILTER_PARAMS = [
  { name: 'messageId', kind: 'string', column: 'message_id', doc: 'The messageId.' },
  { name: 'conversationId', kind: 'string', column: 'conversation_id', doc: 'The conversationId.' },
  {
    name: 'receiverIdentifier',
    kind: 'string',
    column: 'receiver_identifier',
    doc: 'The receiver as a primary identifier: an organisation number without `0192:`, or a fødselsnummer.',
  },
  {
    name: 'senderIdentifier',
    kind: 'string',
    column: 'sender_identifier',
    doc: 'The sender as a primary identifier: an organisation number without `0192:`.',
  },
  {
    name: 'serviceIdentifier',
    kind: 'enum',
    values: [...SERVICE_IDENTIFIERS, 'UNKNOWN'],
    javaType: 'ServiceIdentifier',
    column: 'service_identifier',
    doc: 'The service the message came by.',
  },
  {
    name: 'process',
    kind: 'string',
    column: 'process_identifier',
    doc: 'The process (the `identifier` of the ConversationId scope).',
  },
] as const satisfies readonly (QueryParam & { column: keyof InMessageRow })[]

export function inFilter(query: Query): InFilter {
  const values = bindQuery(query, IN_FILTER_PARAMS)
  const given = IN_FILTER_PARAMS.flatMap((p) => {
    const value = values[p.name]
    return value === undefined ? [] : [[p.column, value] as const]
  })
  return (q) => {
    for (const [column, value] of given) q = q.where(column, '=', value)
    return q
  }
}
