import { z } from 'zod'
import { badRequest } from './problem.js'

/**
 * `FileTransferInitalizeExt` (sic) as the OpenAPI spec declares it (altinn-broker-v1.json,
 * Altinn/altinn-broker): no other properties, the sizes and patterns below, nullable optionals.
 * `\d` is written `[0-9]` since .NET's `\d` and JavaScript's differ only on non-ASCII digits, which
 * no organisation number has.
 */
const propertyList = z
  .record(z.string().regex(/^.{1,50}$/, 'a property name has 1 to 50 characters'), z.string().max(300))
  .refine((o) => Object.keys(o).length <= 10, 'at most 10 properties')

export const fileTransferInitalizeExt = z.strictObject({
  fileName: z.string().min(1).max(255),
  resourceId: z.string().min(1).max(255),
  sendersFileTransferReference: z.string().min(1).max(4096).nullish(),
  sender: z.string().regex(/^[0-9]{4}:[0-9]{9}$/, 'the sender is written 0192:<organisation number>'),
  recipients: z.array(z.string()).min(1),
  propertyList: propertyList.nullish(),
  checksum: z.string().nullish(),
  disableVirusScan: z.boolean().nullish(),
})

export type FileTransferInitalizeExt = z.infer<typeof fileTransferInitalizeExt>

/** Parses the initialize body, or throws a 400 problem naming each field as ASP.NET's validation does. */
export function parseInitialize(body: unknown): FileTransferInitalizeExt {
  const result = fileTransferInitalizeExt.safeParse(body)
  if (result.success) return result.data
  // a Map, since a client's field may be called `toString` or `__proto__`
  const errors = new Map<string, string[]>()
  for (const issue of result.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : ['']
    for (const key of keys) {
      const path = [...issue.path, ...(key ? [key] : [])].map(String).join('.') || '$'
      errors.set(path, [...(errors.get(path) ?? []), issue.message])
    }
  }
  const fields = [...errors.keys()].join(', ')
  throw badRequest(
    `The request body is not a valid FileTransferInitalizeExt: ${fields}`,
    Object.fromEntries(errors),
  )
}
