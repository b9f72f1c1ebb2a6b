/**
 * Writing one incoming message to `DIR/<messageId>/` (sbd.json and its documents) completely before
 * it is acknowledged: everything goes to a temporary directory beside it, is flushed to disk, and
 * is renamed into place in one step. A crash leaves either nothing or the whole message.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { type IncomingMessage, UnsafePackageError } from '../index.js'

export const SBD_FILE = 'sbd.json'

export interface SavedMessage {
  dir: string
  /** the documents, relative to `dir` (sbd.json not included) */
  files: string[]
}

/** A messageId is a UUID in practice; anything that could step out of DIR is refused. */
export function directoryName(messageId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(messageId)) {
    throw new UnsafePackageError(
      `refusing to write message ${JSON.stringify(messageId)}: its id is not a safe directory name`,
    )
  }
  return messageId
}

async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** A directory's entries; where directories cannot be opened (Windows) the rename is what there is. */
async function flushDir(path: string): Promise<void> {
  await flush(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EISDIR' && err.code !== 'EPERM') throw err
  })
}

/**
 * Saves the message under `out`; `undefined` (and nothing written) when `signal` fired before it was
 * complete. An earlier copy of the same message (a run stopped between the rename and the delete) is
 * replaced.
 */
export async function saveMessage(
  message: IncomingMessage,
  out: string,
  signal: AbortSignal,
): Promise<SavedMessage | undefined> {
  const dir = join(out, directoryName(message.messageId))
  // not mkdtemp: its 0700 would stay on the result; this one gets the umask's permissions
  const tmp = join(out, `.${message.messageId}.partial-${randomUUID()}`)
  await mkdir(tmp)
  try {
    await writeFile(join(tmp, SBD_FILE), `${JSON.stringify(message.sbd, null, 2)}\n`)
    const paths = await message.extract(tmp)
    if (signal.aborted) {
      await rm(tmp, { recursive: true, force: true })
      return undefined
    }
    // durable before acknowledged: the delete that follows makes this copy the only one
    for (const p of [join(tmp, SBD_FILE), ...paths]) await flush(p)
    await flushDir(tmp)
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
    await flushDir(out)
    return { dir, files: paths.map((p) => relative(tmp, resolve(p))) }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}
