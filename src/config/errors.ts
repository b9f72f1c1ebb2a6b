/** One thing wrong with the configuration: the property it is about and a sentence saying how to fix it. */
export interface ConfigIssue {
  /** the property as the reference spells it (`difi.move.org.number`), or the file for file-level problems */
  key: string
  message: string
}

/**
 * The configuration cannot be used. The message names the property and what is expected
 * (`server.port must be a port number (0-65535), got "abc"`); when several properties are wrong, each has
 * its own line, so an operator fixes them all in one go.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[]

  constructor(issues: ConfigIssue | readonly ConfigIssue[], options?: { cause?: unknown }) {
    const list = Array.isArray(issues) ? issues : [issues as ConfigIssue]
    super(list.map((i) => i.message).join('\n'), options)
    this.name = 'ConfigError'
    this.issues = Object.freeze([...list])
  }

  /** the first property named */
  get key(): string {
    return this.issues[0]?.key ?? ''
  }
}
