/**
 * The building blocks of the path table: an operation as the table declares it, and its OpenAPI form.
 * Query parameters come from the routes' own declarations (`QueryParam`), paging from paging.ts.
 */
import { MAX_PAGE_SIZE } from '../http/paging.js'
import type { QueryParam } from '../http/query.js'
import { type JsonSchema, ref } from './json-schema.js'

export type Method = 'get' | 'post' | 'put' | 'delete'

export interface PathParam {
  name: string
  description: string
  schema?: JsonSchema
}

export interface Paging {
  sortable: readonly string[]
  /** how the route sorts when no `sort` is given, e.g. `lastUpdate,desc`; none: unsorted */
  defaultSort?: string
}

export interface Operation {
  method: Method
  /** OpenAPI form: `/api/messages/out/{messageId}` */
  path: string
  operationId: string
  tag: string
  summary: string
  description?: string
  /** our addition to the reference's API: why it exists */
  ours?: string
  pathParams?: PathParam[]
  query?: readonly QueryParam[]
  paging?: Paging
  headers?: { name: string; description: string; required: boolean }[]
  requestBody?: JsonSchema
  responses: Record<string, JsonSchema>
}

export function jsonBody(schemaName: string, description?: string): JsonSchema {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { 'application/json': { schema: ref(schemaName) } },
  }
}

export function ok(description: string, schemaName?: string, mediaType = 'application/json'): JsonSchema {
  return schemaName ? { description, content: { [mediaType]: { schema: ref(schemaName) } } } : { description }
}

/** An error answer: the reference's error JSON. */
export function failure(description: string): JsonSchema {
  return { description, content: { 'application/json': { schema: ref('ErrorBody') } } }
}

const SCALARS: Record<Exclude<QueryParam['kind'], 'enum'>, JsonSchema> = {
  string: { type: 'string' },
  date: { type: 'string', format: 'date' },
  'date-time': { type: 'string', format: 'date-time' },
  boolean: { type: 'boolean' },
  long: { type: 'integer', format: 'int64' },
  int: { type: 'integer', format: 'int32' },
}

export function queryParameter(p: QueryParam): JsonSchema {
  const schema = p.kind === 'enum' ? { type: 'string', enum: [...p.values] } : SCALARS[p.kind]
  return { name: p.name, in: 'query', required: false, description: p.doc, schema }
}

/** `page`, `size` and `sort` as parsePageable reads them (Spring Data's paging parameters). */
export function pagingParameters(paging: Paging): JsonSchema[] {
  const props = paging.sortable.join('|')
  return [
    {
      name: 'page',
      in: 'query',
      description: 'The page, from 0.',
      schema: { type: 'integer', minimum: 0, default: 0 },
    },
    {
      name: 'size',
      in: 'query',
      description: `Elements per page; at most ${MAX_PAGE_SIZE}.`,
      schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 10 },
    },
    {
      name: 'sort',
      in: 'query',
      description:
        `\`property[,property…][,asc|desc]\`, repeatable. Properties: ${paging.sortable.map((s) => `\`${s}\``).join(', ')}. ` +
        (paging.defaultSort ? `Default \`${paging.defaultSort}\`.` : 'Unsorted by default.'),
      style: 'form',
      explode: true,
      schema: {
        type: 'array',
        items: {
          type: 'string',
          pattern: `^(?:${props})(?:,(?:${props}))*(?:,(?:[aA][sS][cC]|[dD][eE][sS][cC]))?$`,
        },
      },
    },
  ]
}

export function pathParameter(p: PathParam): JsonSchema {
  return {
    name: p.name,
    in: 'path',
    required: true,
    description: p.description,
    schema: p.schema ?? { type: 'string' },
  }
}

/** The OpenAPI Operation Object of a table entry. */
export function toOperation(op: Operation, security: boolean): JsonSchema {
  const parameters = [
    ...(op.pathParams ?? []).map(pathParameter),
    ...(op.headers ?? []).map((h) => ({ ...h, in: 'header', schema: { type: 'string' } })),
    ...(op.query ?? []).map(queryParameter),
    ...(op.paging ? pagingParameters(op.paging) : []),
  ]
  const responses = {
    ...op.responses,
    ...(security ? { '401': failure('No or wrong credentials.') } : {}),
    default: failure('Any other error (405, 415, 500, 503 while the integration point stops, …).'),
  }
  const description = [op.ours ? `**Ours, not in the reference:** ${op.ours}` : '', op.description ?? '']
    .filter(Boolean)
    .join('\n\n')
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(description ? { description } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.requestBody ? { requestBody: op.requestBody } : {}),
    responses,
  }
}
