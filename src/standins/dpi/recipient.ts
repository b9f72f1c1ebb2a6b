import { DpiProblem } from './errors.js'
import { registryGet } from './keys.js'

interface RecordJson {
  service?: { identifier?: string }
  postkasseAdresse?: string | null
  postAddress?: { name?: string | null; street?: string | null } | null
}

/**
 * Which letters are a person's, as the ServiceRegistry knows the person (`GET {url}/identifier/{fnr}`):
 * a `digital` letter to the postkasseAdresse of one of the person's DPI records, a print letter whose
 * mottaker has the name and the first address line of a print record's postAddress. A person the
 * registry does not know has no letters.
 */
export async function recipientOf(
  registryUrl: string,
  fnr: string,
): Promise<(type: 'digital' | 'utskrift', body: Record<string, unknown>) => boolean> {
  if (!/^[0-9]{11}$/.test(fnr))
    throw new DpiProblem(400, 'sandbox', `recipient must be a person number (11 digits), not "${fnr}"`)
  const { res, url } = await registryGet(registryUrl, `identifier/${fnr}`)
  if (res.status === 404) return () => false
  if (res.status !== 200)
    throw new DpiProblem(502, 'registry-unavailable', `The ServiceRegistry answered ${res.status} for ${url}`)
  const records = ((await res.json()) as { serviceRecords?: RecordJson[] }).serviceRecords ?? []
  const dpi = records.filter((r) => r.service?.identifier === 'DPI')
  const mailboxes = new Set(
    dpi.flatMap((r) => (r.postkasseAdresse ? [r.postkasseAdresse.toLowerCase()] : [])),
  )
  const addresses = dpi.flatMap((r) => (r.postAddress?.name ? [r.postAddress] : []))
  return (type, body) => {
    const mottaker = (body.mottaker ?? {}) as {
      postkasseadresse?: string
      navn?: string
      adresselinje1?: string
    }
    if (type === 'digital') return mailboxes.has((mottaker.postkasseadresse ?? '').toLowerCase())
    const navn = norm(mottaker.navn)
    const line = norm(mottaker.adresselinje1)
    return addresses.some((a) => {
      const street = norm(a.street)
      return norm(a.name) === navn && line !== '' && (street.includes(line) || line.includes(street))
    })
  }
}

const norm = (value: unknown) =>
  typeof value === 'string' ? value.trim().replace(/\s+/g, ' ').toLowerCase() : ''
