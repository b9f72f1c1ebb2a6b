import {
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type Kysely,
  PostgresAdapter,
  type RawBuilder,
  sql,
} from 'kysely'
import { POSTGRES_TITLE_SEARCH, SQLITE_TITLE_SEARCH, type TitleSearch } from './title-search.js'

/**
 * Everything that differs between SQLite and PostgreSQL, in one place (style rule 4). The rest of
 * the code writes one query for both.
 */
export interface DialectCapabilities {
  name: 'sqlite' | 'postgres'
  /** adds an auto-increment primary key column named `id` */
  idColumn<T extends string>(table: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'>
  /** the column type for epoch milliseconds */
  bigint: 'integer' | 'bigint'
  /** the column type for raw bytes (payload chunks); both hand them over as a Buffer */
  bytes: 'blob' | 'bytea'
  /** `FOR UPDATE SKIP LOCKED` when claiming jobs (SQLite serialises writers instead) */
  skipLocked: boolean
  /** case-insensitive LIKE operator */
  ilike: 'like' | 'ilike'
  /** word-prefix search over conversation titles (FTS5 / tsvector), for the web pages */
  titleSearch: TitleSearch
  /**
   * A text column compared by its bytes (code points), as a range of keys with one prefix needs:
   * SQLite's BINARY collation; PostgreSQL's "C" (the database's own may order '/' by language rules).
   * An index on the same expression serves the range (migration 0009).
   */
  byBytes(column: string): RawBuilder<string>
}

export const SQLITE: DialectCapabilities = {
  name: 'sqlite',
  idColumn: (table) =>
    table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()),
  bigint: 'integer',
  bytes: 'blob',
  skipLocked: false,
  ilike: 'like',
  titleSearch: SQLITE_TITLE_SEARCH,
  byBytes: (column) => sql<string>`${sql.ref(column)}`,
}

export const POSTGRES: DialectCapabilities = {
  name: 'postgres',
  idColumn: (table) =>
    table.addColumn('id', 'bigint', (c: ColumnDefinitionBuilder) =>
      c.primaryKey().generatedByDefaultAsIdentity(),
    ),
  bigint: 'bigint',
  bytes: 'bytea',
  skipLocked: true,
  ilike: 'ilike',
  titleSearch: POSTGRES_TITLE_SEARCH,
  byBytes: (column) => sql<string>`${sql.ref(column)} collate "C"`,
}

/** The capabilities of the database `db` runs on, for code that is handed only the query builder. */
// biome-ignore lint/suspicious/noExplicitAny: any schema
export function capabilitiesOf(db: Kysely<any>): DialectCapabilities {
  return db.getExecutor().adapter instanceof PostgresAdapter ? POSTGRES : SQLITE
}
