#!/usr/bin/env node
// The `integrasjonspunkt` command as built: scripts/bundle-cli.mjs copies this file to dist/src/cli.js, beside
// the bundle of src/cli.ts (dist/src/cli-bundle/cli.cjs, one CommonJS file). It loads the bundle with its
// compiled code kept between starts, since compiling about 7 MB of JavaScript is a large part of a start
// (bench/README.md, "Start-up, issue 20"):
//
// - Node.js 22.1 and later: Node's own compile cache (module.enableCompileCache), then a plain require.
// - Older runtimes (Node.js 20): V8's code cache through node:vm, by hand below. No package does this the
//   way a server needs: the usual require hooks (v8-compile-cache and its fork) keep only the code compiled
//   while the file loads, not the functions compiled while the start runs, which is most of the gain, and
//   they hook every require of the process. The cache is one file per build, runtime and command, in the folder
//   NODE_COMPILE_CACHE names or else node-compile-cache in the OS temporary folder (the same knobs as
//   Node's cache; NODE_DISABLE_COMPILE_CACHE turns it off). It is checked before use: a cache of another
//   build, command, runtime or V8 flags, or a damaged file, is not used, and is rewritten once the start has run.
//   Anything that fails here (a read-only folder, say) only costs the time the cache would have saved.
import { isAscii } from 'node:buffer'
import { createHash } from 'node:crypto'
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import Module, { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { crc32 } from 'node:zlib'

const BUNDLE = fileURLToPath(new URL('./cli-bundle/cli.cjs', import.meta.url))
/** what `integrasjonspunkt start` emits on `process` once it is ready (src/main.ts, SERVER_READY_EVENT) */
const READY_EVENT = 'integrasjonspunkt:ready'
const requireBundle = createRequire(BUNDLE)

if (typeof Module.enableCompileCache === 'function') {
  Module.enableCompileCache()
  requireBundle(BUNDLE)
} else if (process.env.NODE_DISABLE_COMPILE_CACHE || process.sourceMapsEnabled) {
  // source maps are applied to files Node loads itself, not to code compiled through node:vm
  requireBundle(BUNDLE)
} else {
  runWithCodeCache()
}

function runWithCodeCache() {
  const bytes = readFileSync(BUNDLE)
  // V8 accepts a cache made for another source of the same length, so the file is named by the source's hash
  const key = createHash('sha256').update(`${process.version} ${process.arch}\n`).update(bytes).digest('hex')
  const source = wrappedSource(bytes) // after the hash: it blanks the #! line in place
  const folder = join(process.env.NODE_COMPILE_CACHE || join(tmpdir(), 'node-compile-cache'), 'integrasjonspunkt')
  // one cache per command: each compiles its own part of the bundle (`start` the server, `--help` next to none)
  const command = /^[a-z][a-z-]{0,39}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other'
  const build = key.slice(0, 40)
  const cacheFile = join(folder, `${build}-${command}.v8`)
  const cachedData = readCache(cacheFile)
  const script = new vm.Script(source, {
    filename: BUNDLE,
    cachedData,
    // the bundle's import() of the two Swagger packages goes through Node's ES module loader
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
  if (cachedData === undefined || script.cachedDataRejected) {
    // written once the start has compiled what it uses, and before later work can drop that code: V8 discards
    // the compiled code of functions that have not run lately at its garbage collections, so a server that
    // went straight to work (a backlog, a large message) wrote, ten seconds in, a cache holding half of it,
    // V8 accepted it, and every later start of that build compiled the rest again (bench/README.md,
    // "Start-up, 2026-12-08": 447 ms against 260–307 ms). So: as soon as `start` says it is ready
    // (src/main.ts emits READY_EVENT), at exit for a command that ends, or after ten seconds for another server
    let written = false
    const write = () => {
      if (written) return
      written = true
      writeCache(folder, build, cacheFile, script)
    }
    // on the next turn of the event loop, once the ready line has gone out
    process.once(READY_EVENT, () => setImmediate(write))
    // not after a failed command, which may have stopped before it compiled what a good run uses
    process.once('exit', (code) => code === 0 && write())
    setTimeout(write, 10_000).unref()
  }
  const module = new Module(BUNDLE, undefined)
  module.filename = BUNDLE
  module.paths = requireBundle.resolve.paths('integrasjonspunkt') ?? []
  script.runInThisContext().call(module.exports, module.exports, requireBundle, module, BUNDLE, dirname(BUNDLE))
}

/**
 * The bundle inside Node's CommonJS function wrapper, as one string made once: the bundle is 7 MB, and each
 * copy a string operation makes (the #! line removed, the wrapper added, the result flattened for V8) was
 * another 7 MB on the heap before the first request, with the garbage collection that comes with it. The
 * build makes the bundle ASCII (scripts/bundle-cli.mjs), which reads as Latin-1 much quicker than as UTF-8.
 */
function wrappedSource(bytes) {
  // the first line is the #! line, which is not JavaScript inside a function: blanked so the lines stay
  const text = bytes
  if (text[0] === 0x23 && text[1] === 0x21) text.fill(0x20, 0, Math.max(text.indexOf(0x0a), 0) || text.length)
  if (!isAscii(text)) return Module.wrap(text.toString('utf8'))
  return Buffer.concat([Buffer.from(Module.wrapper[0]), text, Buffer.from(Module.wrapper[1])]).latin1Slice()
}

/**
 * The cache's bytes, or undefined when there is none, when its checksum (the first 4 bytes) does not match,
 * or when it may not be ours: V8 runs what the cache holds, and the default folder is in the shared
 * temporary folder, so a file another user owns, or one that others could have written, is not used.
 */
function readCache(file) {
  let fd
  try {
    fd = openSync(file, 'r')
    const stat = fstatSync(fd)
    if (typeof process.getuid === 'function' && (stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0)) {
      return undefined
    }
    const data = readFileSync(fd)
    if (data.length > 4 && data.readUInt32BE(0) === crc32(data.subarray(4))) return data.subarray(4)
  } catch {
    // no cache yet, or unreadable: compile as without one
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
  return undefined
}

/** Writes the cache whole or not at all, and removes what is of no more use. */
function writeCache(folder, build, file, script) {
  try {
    const data = script.createCachedData()
    const sum = Buffer.alloc(4)
    sum.writeUInt32BE(crc32(data))
    mkdirSync(folder, { recursive: true, mode: 0o700 })
    for (const name of readdirSync(folder)) {
      // other builds' caches, and writes that never finished (a process killed while it wrote; one still
      // writing then fails its rename, and the cache is written at a later start)
      const stale = name.endsWith('.partial') || (name.endsWith('.v8') && !name.startsWith(build))
      if (stale) rmSync(join(folder, name), { force: true })
    }
    const partial = `${file}.${process.pid}.partial`
    // a new file or none: never through a link someone left under that name in a shared folder
    writeFileSync(partial, Buffer.concat([sum, data]), { mode: 0o600, flag: 'wx' })
    renameSync(partial, file)
  } catch {
    // a cache that cannot be written only costs the next start the compile
  }
}
