import { describe, expect, it } from 'vitest'
import { route } from './send.js'
import type { Mottakersystem } from './settings.js'

// SvarInn's addressing: a mottakersystem for the forsendelsestype wins over one for all types, and
// only a system of the forsendelse's niva (or of both) takes it.

const system = (username: string, extra: Partial<Mottakersystem> = {}): Mottakersystem => ({
  username,
  password: 'p',
  orgnr: '910229028',
  ...extra,
})

describe('route', () => {
  const all = system('all')
  const bygg = system('bygg', { forsendelsestype: 'Byggesak' })
  const level4 = system('niva4', { niva: 4 })
  const other = system('other', { orgnr: '910075918' })

  it('prefers the system for the type, else the one for all types', () => {
    expect(route([all, bygg], '910229028', 'Byggesak', 3)?.username).toBe('bygg')
    expect(route([bygg, all], '910229028', 'Plansak', 3)?.username).toBe('all')
    expect(route([bygg, all], '910229028', null, 3)?.username).toBe('all')
    expect(route([bygg], '910229028', null, 3)).toBeUndefined()
  })

  it('matches the niva, or a system for both', () => {
    expect(route([level4], '910229028', null, 3)).toBeUndefined()
    expect(route([level4], '910229028', null, 4)?.username).toBe('niva4')
    expect(route([all], '910229028', null, 4)?.username).toBe('all')
  })

  it('never routes to another organisation’s system', () => {
    expect(route([other], '910229028', null, 3)).toBeUndefined()
  })
})
