import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCatalogue } from './catalog-load.js'
import { NO_CREDENTIALS, tempDir, testCertificatePem } from './test-support.js'

const DOC = readFileSync(new URL('../../../docs/service-registry-standin.md', import.meta.url), 'utf8')
const SANDBOX = JSON.parse(readFileSync(new URL('../../../sandbox/catalog.json', import.meta.url), 'utf8'))

describe('docs/service-registry-standin.md', () => {
  it('has an annotated example that is a catalogue the stand-in serves', async () => {
    const example = /```jsonc\n([\s\S]*?)```/.exec(DOC)![1]!
    const pem = testCertificatePem()
    const json = example
      .replace(/\/\/ \(\d+\)/g, '')
      .replace('"-----BEGIN CERTIFICATE-----\\nMIID…\\n-----END CERTIFICATE-----\\n"', JSON.stringify(pem))
      .replace(/\{ "generated": "[\w-]+" \}/g, JSON.stringify(pem))
    const dir = tempDir()
    try {
      mkdirSync(join(dir.path, 'certs'))
      dir.file('certs/postkasse.pem', pem)
      const catalogue = await loadCatalogue(dir.file('catalog.json', json), NO_CREDENTIALS)
      expect(catalogue.organisations.size).toBe(7)
      expect(catalogue.processes.has('urn:no:difi:profile:arkivmelding:byggesak:ver1.0')).toBe(true)
    } finally {
      dir.remove()
    }
  })

  it('describes every receiver of the sandbox catalogue', () => {
    const table = DOC.slice(DOC.indexOf('## The sandbox catalogue'), DOC.indexOf('## Keys and certificates'))
    const ids = [
      ...SANDBOX.organisations.map((o: { orgnr: string }) => o.orgnr),
      ...SANDBOX.persons.map((p: { fnr: string }) => p.fnr),
    ]
    for (const id of ids) expect(table).toContain(id)
  })
})
