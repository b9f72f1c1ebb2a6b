import { ApiError } from '../errors/api-error.js'

/** Spring Data paging as the reference takes it: `page` (0-based), `size` (max 2000), `sort=prop[,asc|desc]`. */
export interface SortOrder {
  property: string
  direction: 'asc' | 'desc'
}

export interface Pageable {
  page: number
  size: number
  sort: SortOrder[]
}

export const MAX_PAGE_SIZE = 2000
const DEFAULT_SIZE = 10

/**
 * Reads paging parameters leniently as Spring does (a bad number falls back to the default), but an
 * unknown sort property is a 400 here where the reference answers 500 (docs/compatibility.md).
 */
export function parsePageable(
  query: Record<string, unknown>,
  opts: { sortable: readonly string[]; defaultSort: SortOrder[] },
): Pageable {
  const page = Math.max(0, intOr(first(query.page), 0))
  const rawSize = intOr(first(query.size), DEFAULT_SIZE)
  const size = rawSize < 1 ? DEFAULT_SIZE : Math.min(rawSize, MAX_PAGE_SIZE)
  const sortParams = list(query.sort)
  const sort = sortParams.length ? sortParams.flatMap((s) => parseSort(s, opts.sortable)) : opts.defaultSort
  return { page, size, sort }
}

function parseSort(value: string, sortable: readonly string[]): SortOrder[] {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  if (!parts.length) return []
  const last = parts[parts.length - 1]!.toLowerCase()
  const direction = last === 'desc' ? 'desc' : 'asc'
  const props = last === 'asc' || last === 'desc' ? parts.slice(0, -1) : parts
  return props.map((property) => {
    if (!sortable.includes(property)) {
      throw new ApiError('IllegalArgument', [], {
        message: `No property '${property}' found for sorting. Sortable properties: ${sortable.join(', ')}`,
      })
    }
    return { property, direction }
  })
}

function intOr(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^-?\d{1,9}$/.test(value.trim())) return fallback
  return Number(value)
}

export function first(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length ? String(value[0]) : undefined
  return value === undefined || value === null ? undefined : String(value)
}

function list(value: unknown): string[] {
  if (value === undefined || value === null) return []
  return (Array.isArray(value) ? value : [value]).map(String)
}

function sortJson(sort: SortOrder[]) {
  return { sorted: sort.length > 0, unsorted: sort.length === 0, empty: sort.length === 0 }
}

/** The reference's Page JSON (Spring's PageImpl serialised as-is). */
export function toPage<T>(content: T[], pageable: Pageable, total: number) {
  const totalPages = pageable.size === 0 ? 1 : Math.ceil(total / pageable.size)
  return {
    content,
    pageable: {
      sort: sortJson(pageable.sort),
      offset: pageable.page * pageable.size,
      pageNumber: pageable.page,
      pageSize: pageable.size,
      unpaged: false,
      paged: true,
    },
    last: pageable.page + 1 >= totalPages,
    totalPages,
    totalElements: total,
    size: pageable.size,
    number: pageable.page,
    sort: sortJson(pageable.sort),
    numberOfElements: content.length,
    first: pageable.page === 0,
    empty: content.length === 0,
  }
}
