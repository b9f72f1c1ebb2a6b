import { describe, expect, it } from 'vitest'
import { parseArgs, USAGE, UsageError } from './cli-args.js'

describe('parseArgs', () => {
  it('takes the command and the positionals after it', () => {
    expect(parseArgs(['start'])).toEqual({ command: 'start', help: false, rest: [] })
    expect(parseArgs([])).toEqual({ command: undefined, help: false, rest: [] })
    expect(parseArgs(['sandbox', 'extra', '--', '--not-a-flag'])).toEqual({
      command: 'sandbox',
      help: false,
      rest: ['extra', '--not-a-flag'],
    })
  })

  it('reads --config, --port, --catalog and --help in either form', () => {
    expect(parseArgs(['start', '--config', 'ip.properties', '--port=9094'])).toEqual({
      command: 'start',
      configFile: 'ip.properties',
      port: 9094,
      help: false,
      rest: [],
    })
    expect(parseArgs(['service-registry', '--catalog', 'catalog.json', '-p', '9099'])).toMatchObject({
      command: 'service-registry',
      catalog: 'catalog.json',
      port: 9099,
    })
    expect(parseArgs(['sandbox', '--port-base', '19093'])).toMatchObject({
      command: 'sandbox',
      portBase: 19093,
    })
    expect(parseArgs(['--help']).help).toBe(true)
    expect(parseArgs(['start', '-h', '-c', 'x.properties'])).toMatchObject({
      help: true,
      configFile: 'x.properties',
    })
  })

  it('refuses unknown flags, missing values and bad ports with the usage line', () => {
    for (const argv of [
      ['start', '--verbose'],
      ['start', '--config'],
      ['start', '--port', 'abc'],
      ['start', '--port', '70000'],
      ['sandbox', '--port-base', '65530'],
      ['sandbox', '--port-base', '0'],
    ]) {
      expect(() => parseArgs(argv)).toThrow(UsageError)
      expect(() => parseArgs(argv)).toThrow(USAGE)
    }
    expect(() => parseArgs(['start', '--port', 'abc'])).toThrow(
      '--port must be a port number (0-65535), got "abc"',
    )
    expect(() => parseArgs(['start', '--verbose'])).toThrow("Unknown option '--verbose'")
    expect(() => parseArgs(['start', '--config='])).toThrow('--config needs a file name')
  })
})
