/**
 * The OpenAPI 3.1 document of the NextMove API, built from the path table and the schemas the code
 * binds and writes with. Built once per app; `security` adds HTTP Basic when `difi.security.enable`.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { addApiSchemas } from './api-schemas.js'
import { Components, type JsonSchema, ref } from './json-schema.js'
import { type Operation, toOperation } from './operations.js'
import { MESSAGE_OPERATIONS } from './paths-messages.js'
import { STATUS_OPERATIONS } from './paths-status.js'
import { addSbdSchemas, SBD } from './sbd.js'

/** Every operation of the API, in the order the document lists them. */
export const OPERATIONS: readonly Operation[] = [...MESSAGE_OPERATIONS, ...STATUS_OPERATIONS]

const TAGS = [
  { name: 'Sending', description: 'Create, upload and send messages (`/api/messages/out`).' },
  { name: 'Receiving', description: 'Peek, pop and acknowledge incoming messages (`/api/messages/in`).' },
  { name: 'Statuses', description: 'Message statuses and the status queue.' },
  { name: 'Conversations', description: 'Conversations: one message and its statuses.' },
  { name: 'Subscriptions', description: 'Webhooks: statuses pushed to your URL.' },
  { name: 'Capabilities', description: 'What a receiver can take, and prototype messages.' },
]

export interface DocumentOptions {
  /** HTTP Basic on every `/api` operation (`difi.security.enable`) */
  security: boolean
  version?: string
}

export function buildOpenApiDocument(opts: DocumentOptions): JsonSchema {
  const components = new Components()
  addSbdSchemas(components)
  addApiSchemas(components, [SBD, 'MessageStatus', 'Conversation', 'Subscription'])
  return {
    openapi: '3.1.0',
    info: {
      title: 'Integrasjonspunkt NextMove API',
      version: opts.version ?? packageVersion(),
      description:
        'The NextMove (eFormidling 2) API of this integration point, wire-compatible with Digdir’s ' +
        'reference. Operations and members marked **ours** are additions; `docs/compatibility.md` lists every ' +
        'deliberate difference. Errors are the reference’s error JSON (`ErrorBody`).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: TAGS,
    ...(opts.security ? { security: [{ basicAuth: [] }] } : {}),
    paths: paths(opts.security),
    webhooks: webhooks(),
    components: {
      schemas: components.schemas,
      securitySchemes: {
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description:
            '`difi.security.user.name` / `difi.security.user.password`, when `difi.security.enable`.',
        },
      },
    },
  }
}

function paths(security: boolean): Record<string, Record<string, JsonSchema>> {
  const out: Record<string, Record<string, JsonSchema>> = {}
  for (const op of OPERATIONS) {
    const item = out[op.path] ?? {}
    out[op.path] = item
    if (item[op.method]) throw new Error(`the path table has ${op.method} ${op.path} twice`)
    item[op.method] = toOperation(op, security)
  }
  return out
}

/** What the integration point POSTs to a subscription's push endpoint (docs/webhooks.md, "Events"). */
function webhooks(): Record<string, JsonSchema> {
  const event = (schema: string, summary: string) => ({
    post: {
      summary,
      parameters: [
        {
          name: 'X-Integrasjonspunkt-Signature',
          in: 'header',
          required: false,
          description:
            '**Ours:** `sha256=<hex HMAC-SHA256 of the body>` with the subscription’s `secret`, when it has one.',
          schema: { type: 'string' },
        },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: ref(schema) } } },
      responses: { '200': { description: 'Any 2xx: delivered. Anything else: tried again later.' } },
    },
  })
  return {
    status: event('StatusEvent', 'A new status of a message'),
    ping: event('PingEvent', 'A ping when a subscription is created or its endpoint changes'),
  }
}

/** This package's version, from the nearest package.json above this file (src/ and dist/src/ alike). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }
      if (pkg.version) return pkg.version
    } catch {
      // not here: one folder up
    }
    dir = dirname(dir)
  }
  return '0.0.0'
}
