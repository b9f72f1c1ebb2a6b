import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { addFilter } from './commands/receive.js'
import { directoryName } from './receive-save.js'

describe('receive', () => {
  it('collects repeated --filter key=value into the peek filter', () => {
    const once = addFilter('serviceIdentifier=DPO', undefined)
    expect(once).toEqual({ serviceIdentifier: 'DPO' })
    expect(addFilter('process=urn:a=b', once)).toEqual({ serviceIdentifier: 'DPO', process: 'urn:a=b' })
    expect(addFilter('messageId=', undefined)).toEqual({ messageId: '' })
    for (const bad of ['DPO', '=DPO', 'colour=blue', 'servicetype=DPO']) {
      expect(() => addFilter(bad, undefined)).toThrow(InvalidArgumentError)
    }
  })

  it('writes a message only under a directory name that stays inside --out', () => {
    expect(directoryName('6f1c2a9e-3c61-4d6b-9a55-0f3c8f1b2e7d')).toBe('6f1c2a9e-3c61-4d6b-9a55-0f3c8f1b2e7d')
    for (const bad of ['', '..', '../x', 'a/b', '/etc', '.hidden', 'a\\b', 'a b']) {
      expect(() => directoryName(bad), bad).toThrow(/not a safe directory name/)
    }
  })
})
