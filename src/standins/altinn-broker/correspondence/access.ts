import type { Clock } from '../../../util/time.js'
import { BrokerProblem } from '../problem.js'
import type { BrokerStore } from '../store.js'
import { ProxyRefusal } from './errors.js'

/**
 * Who may call the Correspondence API. Through the proxy prefix the exchanged Altinn token must carry
 * `eformidling:dpv` (and, with an access list, name a member), refused in the proxy's own format; on the
 * direct prefix it must carry Altinn's `altinn:correspondence.write` (or `.read` for reading).
 */
export type Prefix = 'proxy' | 'direct'
export type Access = 'read' | 'write'

export const DPV_SCOPE = 'eformidling:dpv'
const ACCESS_LIST = 'eformidling-meldingsteneste-test-tilgangsliste'

export function correspondenceCaller(
  tokens: BrokerStore,
  clock: Clock,
  authorization: string | undefined,
  how: { prefix: Prefix; access: Access; accessList?: string[] },
): string {
  const proxy = how.prefix === 'proxy'
  const refuse = (status: 401 | 403, detail: string) =>
    proxy ? new ProxyRefusal(status, detail) : new BrokerProblem(status, detail)
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  if (!token) return fail(refuse(401, 'Authorization: Bearer <Altinn token> is required'))
  const row = tokens.token(token)
  if (!row) return fail(refuse(401, 'Unknown Altinn token: exchange a Maskinporten token first'))
  if (row.expires < clock.now().getTime()) return fail(refuse(401, 'The Altinn token has expired'))
  const scopes = (row.scope ?? '').split(/\s+/)
  const wanted = proxy
    ? [DPV_SCOPE]
    : how.access === 'write'
      ? ['altinn:correspondence.write']
      : ['altinn:correspondence.read', 'altinn:correspondence.write']
  if (!wanted.some((s) => scopes.includes(s)))
    return fail(
      refuse(403, `The token lacks the scope ${wanted.join(' or ')} (it has: ${row.scope ?? 'none'})`),
    )
  const orgnr = row.org.replace(/^0192:/, '')
  if (proxy && how.accessList && !how.accessList.includes(orgnr))
    return fail(refuse(403, `Access denied. Organization ${orgnr} is not on access list ${ACCESS_LIST}`))
  return row.org
}

function fail(error: Error): never {
  throw error
}
