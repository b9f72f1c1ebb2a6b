// The last step of `npm run build`, after tsc has compiled src/ into dist/src/: bundles the server's command
// line (src/cli.ts and everything it imports) with esbuild into one CommonJS file,
// dist/src/cli-bundle/cli.cjs, and makes dist/src/cli.js (the `integrasjonspunkt` bin, `npm start`) the small
// entry in scripts/cli-entry.mjs that loads it. Start to ready is mostly Node.js resolving, reading and
// compiling modules; one bundle is one file instead of about eleven hundred (bench/README.md, "Start-up,
// issue 20"). The rest of dist/src/ stays as tsc wrote it, for the benchmarks and anyone importing single
// modules.
//
// CommonJS rather than ES modules so that the entry can keep the bundle's compiled code between starts on
// Node.js 20 too (V8's code cache works on scripts, and node:vm compiles ES modules only behind a flag); on
// Node.js 22.1 and later the entry turns on Node's own compile cache instead. One file holds every command:
// the sandbox and the stand-ins, which src/cli.ts imports only for their commands, are wrapped by esbuild
// so their top-level code runs only when imported, and with the cache their functions are compiled only if
// they run. src/ uses import.meta.url to find files beside it (package.json, the sandbox catalogue), so it
// is defined as the bundle's own URL (in a banner that keeps the file strict, as ES modules were).
//
// Kept out of the bundle, loaded from node_modules as before:
// - better-sqlite3 (a native addon, with pg-native that pg loads only if asked);
// - @fastify/swagger and @fastify/swagger-ui, which read their own files at run time (Swagger UI's
//   static folder, their package.json) from paths next to their code.
// No other bundled package reads files beside its code or starts worker threads on the paths we use
// (pino's transports would, and we use none).
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { build, transform } from 'esbuild'

const root = new URL('..', import.meta.url).pathname
const outdir = `${root}dist/src/cli-bundle`
rmSync(outdir, { recursive: true, force: true })

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outfile: `${outdir}/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.18',
  external: ['better-sqlite3', 'pg-native', '@fastify/swagger', '@fastify/swagger-ui'],
  define: { 'import.meta.url': '__bundleUrl', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
  banner: { js: "'use strict'; const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
})

// esbuild writes strings and names in ASCII, but keeps comments and regular expressions as they were, and
// a few of ours and the packages' hold other characters (dashes and ellipses in comments, Norwegian letters
// in a pattern). One such character makes Node.js decode the whole 7 MB file as UTF-8 into a two-byte
// string, which took 28-47 ms against 2-7 ms for the same bytes read as Latin-1 (Node.js 20, busy machine),
// at every start. So each becomes its \uXXXX escape, which means the same in a pattern and nothing in a
// comment; checked by esbuild itself: the file without comments and whitespace must be the same whether it
// was escaped before or after (a raw template string, say, would differ).
const bundleFile = `${outdir}/cli.cjs`
const bundled = readFileSync(bundleFile, 'utf8')
const escape = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
const ascii = escape(bundled)
if (ascii !== bundled) {
  const code = async (text) => (await transform(text, { loader: 'js', minifyWhitespace: true, legalComments: 'none' })).code
  if ((await code(ascii)) !== escape(await code(bundled))) {
    throw new Error(`${bundleFile}: characters other than ASCII that an escape would change`)
  }
  writeFileSync(bundleFile, ascii)
}

copyFileSync(`${root}scripts/cli-entry.mjs`, `${root}dist/src/cli.js`)
chmodSync(`${root}dist/src/cli.js`, 0o755)
rmSync(`${root}dist/src/cli.js.map`, { force: true })
