import { describe, expect, it } from 'vitest'
import { load, loadError, MINIMAL_ENV } from './test-helpers.js'

describe('difi.move.dpo.reportees', () => {
  it('reads the system users as the reference writes them, in index order, from the file or the environment', () => {
    const config = load({
      file: [
        'difi.move.dpo.reportees[1].orgId=0192:313711218',
        'difi.move.dpo.reportees[1].name=313711218_integrasjonspunkt_systembruker_b',
        'difi.move.dpo.reportees[0].orgId=311780735',
        'difi.move.dpo.reportees[0].name=311780735_integrasjonspunkt_systembruker_a',
      ].join('\n'),
    })
    expect(config.dpo.reportees).toEqual([
      { orgId: '0192:311780735', name: '311780735_integrasjonspunkt_systembruker_a' },
      { orgId: '0192:313711218', name: '313711218_integrasjonspunkt_systembruker_b' },
    ])
    const fromEnv = load({
      env: {
        ...MINIMAL_ENV,
        DIFI_MOVE_DPO_REPORTEES_0_ORGID: '0192:311780735',
        DIFI_MOVE_DPO_REPORTEES_0_NAME: 'x',
      },
    })
    expect(fromEnv.dpo.reportees).toEqual([{ orgId: '0192:311780735', name: 'x' }])
    expect(load().dpo.reportees).toEqual([])
  })

  it('refuses an item without a valid orgId or a name, naming the key', () => {
    expect(
      loadError({ file: 'difi.move.dpo.reportees[0].orgId=12\ndifi.move.dpo.reportees[0].name=x' }).message,
    ).toContain('difi.move.dpo.reportees[0].orgId must be 0192:<organisation number>')
    expect(loadError({ file: 'difi.move.dpo.reportees[0].orgId=0192:311780735' }).message).toContain(
      'difi.move.dpo.reportees[0].name is not set',
    )
  })
})
