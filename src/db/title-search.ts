import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely'

/**
 * Word-prefix search over `conversations.message_title` (the operator's conversation list, issue 8):
 * FTS5 on SQLite, a `to_tsvector('simple', …)` GIN index on PostgreSQL. Both take the words as letters
 * and digits only (see `titleWords`), so nothing the user types reaches either query syntax.
 */
export interface TitleSearch {
  /** makes the search structure and fills it from the rows already there (migration 0004) */
  // biome-ignore lint/suspicious/noExplicitAny: migrations see the schema as it was
  create(db: Kysely<any>): Promise<void>
  /**
   * A condition true for a row of `conversations` (as `alias`) whose title has a word starting with
   * each of `words`. It may first ask how common the words are, to choose how a sorted page reads them.
   */
  // biome-ignore lint/suspicious/noExplicitAny: any schema with `conversations`
  matches(db: Kysely<any>, alias: string, words: readonly string[]): Promise<RawBuilder<SqlBool>>
}

/** Matches from which SQLite is better off walking the page's order than sorting them all. */
const COMMON = 2000

/** The words of a title query: runs of letters and digits, lower-cased, at most 8. */
export function titleWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8)
}

/**
 * An external-content FTS5 table: it stores only the index, the titles stay in `conversations`, and
 * triggers keep it in step with every insert, title change and delete (retention included).
 * `remove_diacritics 0` matches PostgreSQL's `simple` configuration (å is not a); `prefix` indexes make
 * two- and three-letter prefixes cheap.
 */
export const SQLITE_TITLE_SEARCH: TitleSearch = {
  async create(db) {
    await sql`create virtual table if not exists conversations_fts using fts5(
      message_title, content='conversations', content_rowid='id',
      tokenize='unicode61 remove_diacritics 0', prefix='2 3')`.execute(db)
    await sql`create trigger if not exists conversations_fts_insert after insert on conversations begin
      insert into conversations_fts(rowid, message_title) values (new.id, new.message_title); end`.execute(db)
    await sql`create trigger if not exists conversations_fts_delete after delete on conversations begin
      insert into conversations_fts(conversations_fts, rowid, message_title)
        values ('delete', old.id, old.message_title); end`.execute(db)
    await sql`create trigger if not exists conversations_fts_update after update of message_title on conversations begin
      insert into conversations_fts(conversations_fts, rowid, message_title)
        values ('delete', old.id, old.message_title);
      insert into conversations_fts(rowid, message_title) values (new.id, new.message_title); end`.execute(db)
    await sql`insert into conversations_fts(conversations_fts) values ('rebuild')`.execute(db)
  },
  async matches(db, alias, words) {
    const query = words.map((w) => `"${w}"*`).join(' ')
    const { rows } = await sql<{ n: number }>`select count(*) as n from (
      select rowid from conversations_fts where conversations_fts match ${query} limit ${COMMON})`.execute(db)
    // few matches: start from them and sort them; many (a common word): walk the list's order index and
    // keep the matches, which finds a page after a few thousand rows (`+` keeps SQLite from starting at
    // the matches, which would sort every one of them first)
    const id = sql.ref(`${alias}.id`)
    const column = Number(rows[0]?.n ?? 0) >= COMMON ? sql`+${id}` : id
    return sql<SqlBool>`${column} in (select rowid from conversations_fts where conversations_fts match ${query})`
  },
}

export const POSTGRES_TITLE_SEARCH: TitleSearch = {
  async create(db) {
    await sql`create index if not exists conversations_title_words on conversations
      using gin (to_tsvector('simple', coalesce(message_title, '')))`.execute(db)
  },
  // PostgreSQL's planner weighs the words itself (the GIN index's statistics)
  async matches(_db, alias, words) {
    const query = words.map((w) => `${w}:*`).join(' & ')
    // the expression must be the indexed one, word for word, for the planner to use the index
    return sql<SqlBool>`to_tsvector('simple', coalesce(${sql.ref(`${alias}.message_title`)}, '')) @@ to_tsquery('simple', ${query})`
  },
}
