import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { z } from 'zod'
import { buildCatalogue, type Catalogue } from './catalog.js'
import { checkCatalogue, type Problem } from './catalog-check.js'
import { type CatalogFile, type CertificateSpec, catalogSchema } from './catalog-schema.js'
import type { CredentialStore } from './credentials.js'
import { jsonErrorOffset } from './json-position.js'
import type { CertificateSubject } from './x509.js'

/** The registry's own signing key is a generated credential of this name; catalogues may not take it. */
export const SIGNING_CREDENTIAL = 'service-registry'

/** A catalogue that cannot be served: every problem found, each with its place in the file. */
export class CatalogueError extends Error {
  override name = 'CatalogueError'
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(
      `${source} is not a usable catalogue:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
    )
  }
}

export async function loadCatalogue(path: string, credentials: CredentialStore): Promise<Catalogue> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new CatalogueError(path, [{ path: '(file)', message: `cannot read it: ${(err as Error).message}` }])
  }
  const file = parseCatalogue(text, path)
  const certs = await readCertificates(file, dirname(path), credentials)
  const sasKey = await readSasKey(file, credentials).catch((err: Error) => {
    certs.problems.push({ path: 'settings.dpe.sasKey', message: err.message })
    return null
  })
  if (certs.problems.length > 0) throw new CatalogueError(path, certs.problems)
  return buildCatalogue(file, certs.texts, { path, files: [path, ...certs.files], sasKey })
}

/** The Service Bus SAS key the file configures (literal, or generated into the data folder), or null. */
export async function readSasKey(file: CatalogFile, credentials: CredentialStore): Promise<string | null> {
  const spec = file.settings.dpe?.sasKey
  if (spec === undefined) return null
  return typeof spec === 'string' ? spec : credentials.sasKey(spec.generated)
}

/** JSON text → a checked catalogue file; every problem at once, or a {@link CatalogueError}. */
export function parseCatalogue(text: string, source: string): CatalogFile {
  const json = parseJson(text, source)
  const parsed = catalogSchema.safeParse(json)
  if (!parsed.success) throw new CatalogueError(source, parsed.error.issues.map(issueProblem))
  const problems = checkCatalogue(parsed.data)
  if (problems.length > 0) throw new CatalogueError(source, problems)
  return parsed.data
}

function parseJson(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return JSON.parse(body)
  } catch (err) {
    const offset = jsonErrorOffset(body)
    const place = offset === undefined ? '(file)' : lineAndColumn(body, offset)
    throw new CatalogueError(source, [{ path: place, message: `not valid JSON: ${(err as Error).message}` }])
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`
}

export function jsonPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out || '(top level)'
}

function issueProblem(issue: z.core.$ZodIssue): Problem {
  let message = issue.message
  if (issue.code === 'invalid_type' && message.endsWith('received undefined')) {
    message = `missing (expected ${issue.expected})`
  } else if (issue.code === 'too_small' && issue.origin === 'string') {
    message = 'must not be empty'
  } else if (issue.code === 'invalid_union') {
    message = 'not one of the allowed forms (see catalog.schema.json)'
  }
  return { path: jsonPath(issue.path), message }
}

interface CertificateRef {
  path: string
  spec: CertificateSpec
  subject: CertificateSubject
}

/** Every certificate the file names, as canonical PEM keyed by its JSON path. */
async function readCertificates(file: CatalogFile, baseDir: string, credentials: CredentialStore) {
  const texts = new Map<string, string>()
  const files: string[] = []
  const problems: Problem[] = []
  for (const ref of certificateRefs(file)) {
    try {
      const { pem, fromFile } = await readCertificate(ref, baseDir, credentials)
      texts.set(ref.path, pem)
      if (fromFile) files.push(fromFile)
    } catch (err) {
      problems.push({ path: ref.path, message: (err as Error).message })
    }
  }
  return { texts, files, problems }
}

async function readCertificate(ref: CertificateRef, baseDir: string, credentials: CredentialStore) {
  const { spec } = ref
  if (typeof spec === 'string') return { pem: canonicalPem(spec), fromFile: undefined }
  if ('file' in spec) {
    const file = resolve(baseDir, spec.file)
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new Error(`cannot read ${file}: ${err.message}`)
    })
    return { pem: canonicalPem(text), fromFile: file }
  }
  if (spec.generated === SIGNING_CREDENTIAL) {
    throw new Error(`"${SIGNING_CREDENTIAL}" is the registry's own signing key: choose another name`)
  }
  const credential = await credentials.get(spec.generated, ref.subject)
  return { pem: credential.certificate.toString(), fromFile: undefined }
}

/** PEM (or a bare base64 body, as the reference's getter wraps it) → the certificate's PEM. */
export function canonicalPem(text: string): string {
  const pem = text.includes('-----BEGIN')
    ? text
    : `-----BEGIN CERTIFICATE-----\n${text.trim()}\n-----END CERTIFICATE-----\n`
  try {
    return new X509Certificate(pem).toString()
  } catch (err) {
    throw new Error(`not a readable X.509 certificate (${(err as Error).message})`)
  }
}

function certificateRefs(file: CatalogFile): CertificateRef[] {
  const refs: CertificateRef[] = []
  const push = (path: string, spec: CertificateSpec | null | undefined, subject: CertificateSubject) => {
    if (spec !== undefined && spec !== null) refs.push({ path, spec, subject })
  }
  push('settings.dpf.certificate', file.settings.dpf?.certificate, {
    commonName: 'KS SvarUt (stand-in)',
    country: 'NO',
  })
  file.organisations.forEach((org, i) => {
    const subject = { commonName: org.name, organization: org.name, serialNumber: org.orgnr, country: 'NO' }
    push(`organisations[${i}].certificate`, org.certificate, subject)
    for (const [process, o] of Object.entries(org.overrides ?? {})) {
      push(`organisations[${i}].overrides.${process}.certificate`, o.certificate, subject)
    }
  })
  file.persons.forEach((p, i) => {
    push(`persons[${i}].mailbox.certificate`, p.mailbox?.certificate, { commonName: `mailbox of ${p.fnr}` })
  })
  return refs
}
