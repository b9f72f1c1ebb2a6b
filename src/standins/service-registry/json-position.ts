/**
 * Where a JSON text stops being JSON (RFC 8259), as an offset: V8's `JSON.parse` messages give a
 * position for some errors and only a snippet for others ("Unexpected token '}', ... is not valid
 * JSON"), and an operator fixing a catalogue needs the line and column. Called only after
 * `JSON.parse` has failed; returns undefined if it finds no error.
 */
export function jsonErrorOffset(text: string): number | undefined {
  const scanner = new Scanner(text)
  try {
    scanner.value()
    scanner.space()
    return scanner.at < text.length ? scanner.at : undefined
  } catch (err) {
    if (err instanceof SyntaxAt) return err.at
    throw err
  }
}

class SyntaxAt extends Error {
  constructor(readonly at: number) {
    super(`JSON syntax error at ${at}`)
  }
}

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
const LITERAL = /true|false|null/y

class Scanner {
  at = 0
  constructor(private readonly text: string) {}

  space(): void {
    while (' \t\n\r'.includes(this.text[this.at] ?? 'x')) this.at++
  }

  value(): void {
    this.space()
    const c = this.text[this.at]
    if (c === '{') this.container('}', () => this.member())
    else if (c === '[') this.container(']', () => this.value())
    else if (c === '"') this.string()
    else this.scalar()
  }

  private scalar(): void {
    for (const pattern of [NUMBER, LITERAL]) {
      pattern.lastIndex = this.at
      if (pattern.test(this.text)) {
        this.at = pattern.lastIndex
        return
      }
    }
    throw new SyntaxAt(this.at)
  }

  private container(close: string, item: () => void): void {
    this.at++
    this.space()
    if (this.text[this.at] === close) {
      this.at++
      return
    }
    for (;;) {
      item()
      this.space()
      const c = this.text[this.at]
      this.at++
      if (c === close) return
      if (c !== ',') throw new SyntaxAt(this.at - 1)
    }
  }

  private member(): void {
    this.space()
    if (this.text[this.at] !== '"') throw new SyntaxAt(this.at)
    this.string()
    this.space()
    if (this.text[this.at] !== ':') throw new SyntaxAt(this.at)
    this.at++
    this.value()
  }

  private string(): void {
    this.at++
    for (;;) {
      const c = this.text[this.at]
      if (c === undefined || c.charCodeAt(0) < 0x20) throw new SyntaxAt(this.at)
      this.at++
      if (c === '"') return
      if (c === '\\') {
        const e = this.text[this.at]
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 1, this.at + 5))) this.at += 5
        else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.at++
        else throw new SyntaxAt(this.at)
      }
    }
  }
}
