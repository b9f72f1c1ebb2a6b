import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isValidOrgnr } from './catalog-check.js'
import { CatalogueError, loadCatalogue, parseCatalogue } from './catalog-load.js'
import { catalogJsonSchema } from './catalog-schema.js'
import { catalogueOf, NO_CREDENTIALS, PROCESS, tempDir, testCertificatePem } from './test-support.js'

const SANDBOX = new URL('../../../sandbox/catalog.json', import.meta.url)
const SCHEMA_FILE = new URL('./catalog.schema.json', import.meta.url)

/** A small valid catalogue; each case below breaks one thing in a copy. */
function base() {
  const cert = testCertificatePem()
  return {
    settings: { defaultSender: '910075918', dpi: { printProvider: '910075918' }, dpf: { certificate: cert } },
    organisations: [
      { orgnr: '910075918', name: 'A', certificate: cert, DPO: { processes: [PROCESS.administrasjon] } },
      { orgnr: '910229028', name: 'K', entityType: 'KOMM', DPF: { securityLevels: [3] } },
    ],
    persons: [
      {
        fnr: '01819040180',
        name: { first: 'Ola', last: 'Digital' },
        address: { street: 'Portveien 2', postalCode: '0468', postalArea: 'OSLO' },
        mailbox: { provider: '910075918', address: 'ola#1' },
      },
    ],
  }
}

// the cases break the catalogue on purpose: loosely typed
type Catalog = any

async function problemsOf(change: (c: Catalog) => void): Promise<string[]> {
  const c = base() as Catalog
  change(c)
  try {
    await catalogueOf(c)
  } catch (err) {
    if (err instanceof CatalogueError) return err.problems.map((p) => `${p.path}: ${p.message}`)
    throw err
  }
  return []
}

describe('loading a catalogue', () => {
  it('serves the sandbox catalogue, with generated certificates', async () => {
    const dir = tempDir()
    try {
      const { createCredentialStore } = await import('./credentials.js')
      const { ManualClock } = await import('../../util/time.js')
      const store = createCredentialStore(dir.path, new ManualClock())
      const c = await loadCatalogue(SANDBOX.pathname, store)
      expect([c.organisations.size, c.persons.size, c.health.size]).toEqual([8, 4, 1])
      expect(c.organisations.get('910075918')!.certificate).toBe(
        readFileSync(join(dir.path, 'certs', '910075918.cert.pem'), 'utf8'),
      )
      expect(c.settings.dpf.certificate).toBe(
        readFileSync(join(dir.path, 'certs', 'svarut.cert.pem'), 'utf8'),
      )
      expect(c.persons.get('01819040180')!.mailbox!.certificate).toBe(
        c.organisations.get('910094548')!.certificate,
      )
    } finally {
      dir.remove()
    }
  })

  it('accepts a valid catalogue', async () => {
    expect(await problemsOf(() => {})).toEqual([])
  })

  it.each<[string, (c: Catalog) => void, string]>([
    ['an unknown key', (c) => (c.organisations[0].DPOO = {}), 'organisations[0]: Unrecognized key: "DPOO"'],
    [
      'a short orgnr',
      (c) => (c.organisations[1].orgnr = '91022902'),
      'organisations[1].orgnr: an organisation number is 9 digits',
    ],
    [
      'a bad check digit',
      (c) => (c.organisations[1].orgnr = '910229027'),
      'organisations[1].orgnr: "910229027" fails the mod-11 check',
    ],
    [
      'a missing name',
      (c) => delete (c.organisations[0] as any).name,
      'organisations[0].name: missing (expected string)',
    ],
    ['an empty name', (c) => (c.organisations[0].name = ''), 'organisations[0].name: must not be empty'],
    [
      'a listed-twice orgnr',
      (c) => (c.organisations[1].orgnr = '910075918'),
      'organisations[1].orgnr: "910075918" is listed twice',
    ],
    [
      'an unknown process',
      (c) => c.organisations[0].DPO!.processes.push('urn:x'),
      'organisations[0].DPO.processes[1]: "urn:x" is not a known process',
    ],
    [
      'DPE on an arkivmelding process',
      (c) => (c.organisations[0].DPE = { processes: [PROCESS.planBygg] }),
      'organisations[0].DPE.processes[0]: "urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0" is a ARKIVMELDING process; this list takes EINNSYN processes',
    ],
    [
      'DPO without a certificate',
      (c) => delete (c.organisations[0] as any).certificate,
      'organisations[0].certificate: DPO records carry the certificate: give one',
    ],
    [
      'DPF without SvarUt’s certificate',
      (c) => delete (c.settings.dpf as any).certificate,
      "settings.dpf.certificate: organisations[1] is on DPF: its records carry KS SvarUt's certificate",
    ],
    [
      'a level out of range',
      (c) => (c.organisations[1].DPF = { securityLevels: [5] }),
      'organisations[1].DPF.securityLevels[0]: Too big: expected number to be <=4',
    ],
    [
      'a bad fødselsnummer',
      (c) => (c.persons[0].fnr = '01819040181'),
      'persons[0].fnr: "01819040181" has wrong check digits',
    ],
    [
      'an unknown mailbox provider',
      (c) => (c.persons[0].mailbox.provider = '910077473'),
      'persons[0].mailbox.provider: "910077473" is not an organisation in this catalogue',
    ],
    [
      'a provider without a certificate',
      (c) => (c.persons[0].mailbox.provider = '910229028'),
      'persons[0].mailbox: no certificate: give mailbox.certificate or one for organisation 910229028',
    ],
    [
      'a print address without a name',
      (c) => delete (c.persons[0] as any).name,
      "persons[0].name: a print address needs the person's name",
    ],
    [
      'an unknown fastlege',
      (c) => Object.assign(c.persons[0], { gp: 42 }),
      'persons[0].gp: no organisation has DPH.herId 42',
    ],
    [
      'no print provider',
      (c) => delete (c.settings.dpi as any).printProvider,
      "settings.dpi.printProvider: persons[0] has a print address: name the print service's organisation",
    ],
    [
      'no return address sender',
      (c) => delete (c.settings as any).defaultSender,
      'settings.defaultSender: persons[0] has a print address',
    ],
    [
      'garbage for a certificate',
      (c) => (c.organisations[0].certificate = 'not base64!'),
      'organisations[0].certificate: not a readable X.509 certificate',
    ],
    [
      'a missing certificate file',
      (c) => (c.organisations[0].certificate = { file: 'nowhere.pem' } as any),
      'organisations[0].certificate: cannot read ',
    ],
    [
      'the signing key’s name',
      (c) => (c.organisations[0].certificate = { generated: 'service-registry' } as any),
      `organisations[0].certificate: "service-registry" is the registry's own signing key`,
    ],
    [
      'a path as a generated name',
      (c) => (c.organisations[0].certificate = { generated: '../x' } as any),
      'organisations[0].certificate.generated: letters, digits, ".", "_" and "-"',
    ],
    [
      'an override of an unknown process',
      (c) => Object.assign(c.organisations[0], { overrides: { 'urn:y': {} } }),
      'organisations[0].overrides: "urn:y" is not a known process',
    ],
    [
      'an eInnsyn process without a queue',
      (c) =>
        Object.assign(c, { processes: [{ identifier: 'urn:e', category: 'EINNSYN', documentTypes: ['d'] }] }),
      'processes[0]: EINNSYN process "urn:e" needs a serviceCode',
    ],
    [
      'a third digitalpost process',
      (c) =>
        Object.assign(c, {
          processes: [{ identifier: 'urn:d', category: 'DIGITALPOST', documentTypes: ['d'] }],
        }),
      'processes[0]: DIGITALPOST process "urn:d" must be settings.dpi.infoProcess or vedtakProcess',
    ],
    [
      'a default process of the wrong kind',
      (c) => Object.assign(c.settings, { defaultArkivmeldingProcess: PROCESS.avtalt }),
      'settings.defaultArkivmeldingProcess: "urn:no:difi:profile:avtalt:avtalt:ver1.0" is a AVTALT process',
    ],
  ])('refuses %s, naming the place', async (_what, change, expected) => {
    const problems = await problemsOf(change)
    expect(
      problems.some((p) => p.startsWith(expected)),
      problems.join('\n'),
    ).toBe(true)
  })

  it('reports every problem at once', async () => {
    const problems = await problemsOf((c) => {
      c.organisations[1].orgnr = '910229027'
      c.persons[0].fnr = '01819040181'
    })
    expect(problems).toHaveLength(2)
  })

  it('names the line and column of a JSON syntax error', () => {
    const text = '{\n  "organisations": [\n    { "orgnr": "910075918", }\n  ]\n}'
    expect(() => parseCatalogue(text, 'cat.json')).toThrow(
      /cat\.json is not a usable catalogue:\n {2}line 3, column \d+: not valid JSON/,
    )
  })

  it('reads a certificate file beside the catalogue, and a bare base64 body', async () => {
    const dir = tempDir()
    try {
      const pem = testCertificatePem()
      dir.file('a.pem', pem)
      const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '')
      const c = base() as Catalog
      c.organisations[0].certificate = { file: 'a.pem' } as any
      c.settings.dpf.certificate = body
      const catalogue = await loadCatalogue(dir.file('catalog.json', JSON.stringify(c)), NO_CREDENTIALS)
      expect(catalogue.organisations.get('910075918')!.certificate).toBe(pem)
      expect(catalogue.settings.dpf.certificate).toBe(pem)
      expect(catalogue.files).toEqual([join(dir.path, 'catalog.json'), join(dir.path, 'a.pem')])
    } finally {
      dir.remove()
    }
  })

  it('never fails with anything but a CatalogueError, whatever the file holds', () => {
    const sandbox = JSON.parse(readFileSync(SANDBOX, 'utf8'))
    const mutated = fc.tuple(fc.nat(), fc.jsonValue()).map(([n, value]) => replaceLeaf(sandbox, n, value))
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutated), fc.string(), (json, junk) => {
        for (const text of [JSON.stringify(json) ?? 'null', junk]) {
          try {
            parseCatalogue(text, 'x.json')
          } catch (err) {
            if (!(err instanceof CatalogueError)) throw err
            expect(err.problems.length).toBeGreaterThan(0)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('the catalogue’s JSON Schema', () => {
  it('is the one the code checks with (regenerate: UPDATE_CATALOG_SCHEMA=1)', () => {
    const schema = catalogJsonSchema()
    if (process.env.UPDATE_CATALOG_SCHEMA) writeFileSync(SCHEMA_FILE, `${JSON.stringify(schema, null, 2)}\n`)
    expect(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))).toEqual(schema)
  })
})

describe('organisation numbers', () => {
  it('pass the mod-11 check exactly when the last digit is the check digit', () => {
    expect(['910075918', '910077473', '910229028', '974720760'].every(isValidOrgnr)).toBe(true)
    fc.assert(
      fc.property(fc.stringMatching(/^\d{8}$/), (head) => {
        const valid = [...'0123456789'].filter((d) => isValidOrgnr(head + d))
        expect(valid.length).toBeLessThanOrEqual(1)
      }),
    )
  })
})

/** A copy of `json` with its n-th leaf (modulo the number of leaves) replaced by `value`. */
function replaceLeaf(json: unknown, n: number, value: unknown): unknown {
  const copy = structuredClone(json)
  const leaves: [Record<string, unknown>, string][] = []
  const walk = (node: unknown) => {
    if (node === null || typeof node !== 'object') return
    for (const [k, v] of Object.entries(node)) {
      if (v !== null && typeof v === 'object') walk(v)
      else leaves.push([node as Record<string, unknown>, k])
    }
  }
  walk(copy)
  const [parent, key] = leaves[n % leaves.length]!
  parent[key] = value
  return copy
}
