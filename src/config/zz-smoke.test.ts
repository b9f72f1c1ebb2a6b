import { test } from 'vitest'
import { loadConfig } from './load.js'
test('smoke', () => {
  try {
    loadConfig({ cwd: '/tmp/cfgsmoke', env: {} })
  } catch (e) { console.log(String(e)) }
  const c = loadConfig({ cwd: '/tmp/cfgsmoke', env: { DIFI_MOVE_ORG_NUMBER: '910075918', DIFI_SECURITY_ENABLE: 'false', DIFI_SSL_ENABLED: 'false', SPRING_PROFILES_ACTIVE: 'production' } })
  const { properties, ...rest } = c
  console.log(JSON.stringify(rest, null, 1))
  console.log(properties.size, [...properties].slice(0, 12))
})
