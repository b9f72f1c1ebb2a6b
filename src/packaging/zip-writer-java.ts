// Test support: reads a zip with Java's java.util.zip.ZipInputStream, the streaming reader many
// receivers of an ASiC-E use, which refuses what some zip tools let pass (a STORED entry with a data
// descriptor) and checks every entry's size and CRC-32 as it reads. Run in source-file mode
// (`java Reader.java`, JDK 11+), so no javac is needed; `null` when there is no `java` here.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const READER = `
import java.io.*;
import java.nio.file.*;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.*;

public class Reader {
  public static void main(String[] args) throws Exception {
    boolean hash = !(args.length > 1 && args[1].equals("nohash"));
    InputStream in = args[0].equals("-") ? System.in : Files.newInputStream(Path.of(args[0]));
    try (ZipInputStream zip = new ZipInputStream(new BufferedInputStream(in, 1 << 16))) {
      ZipEntry e;
      byte[] buf = new byte[1 << 16];
      while ((e = zip.getNextEntry()) != null) {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long n = 0;
        int r;
        while ((r = zip.read(buf)) > 0) {
          if (hash) md.update(buf, 0, r);
          n += r;
        }
        System.out.println(e.getName() + "\\t" + e.getMethod() + "\\t" + n + "\\t" + (hash ? HexFormat.of().formatHex(md.digest()) : "-"));
      }
    }
  }
}
`

export interface JavaEntry {
  name: string
  /** 0 stored, 8 deflated */
  method: number
  size: number
  /** hex, or '-' when not hashed */
  sha256: string
}

/** The same listing as READER, read through the central directory with java.util.zip.ZipFile. */
const FILE_READER = `
import java.io.*;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.*;

public class FileReader {
  public static void main(String[] args) throws Exception {
    try (ZipFile zip = new ZipFile(args[0])) {
      byte[] buf = new byte[1 << 16];
      for (var it = zip.entries(); it.hasMoreElements(); ) {
        ZipEntry e = it.nextElement();
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long n = 0;
        int r;
        try (InputStream in = zip.getInputStream(e)) {
          while ((r = in.read(buf)) > 0) {
            md.update(buf, 0, r);
            n += r;
          }
        }
        System.out.println(e.getName() + "\\t" + e.getMethod() + "\\t" + n + "\\t" + HexFormat.of().formatHex(md.digest()));
      }
    }
  }
}
`

/** whether `java` runs here; when not, why (tests skip with it) */
export function javaMissing(): string | null {
  const r = spawnSync('java', ['-version'])
  return r.error || r.status !== 0 ? `no java here (${r.error?.message ?? r.stderr.toString().trim()})` : null
}

function readerIn(dir: string): string {
  const path = join(dir, 'Reader.java')
  writeFileSync(path, READER)
  return path
}

function parse(out: string): JavaEntry[] {
  return out
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [name, method, size, sha256] = l.split('\t')
      return { name: name!, method: Number(method), size: Number(size), sha256: sha256! }
    })
}

/** The entries of the zip at `path` as ZipInputStream reads them; throws with Java's error when it refuses. */
export function javaReadZip(dir: string, path: string): JavaEntry[] {
  return parse(execFileSync('java', [readerIn(dir), path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString())
}

/**
 * The entries of the zip at `path` as java.util.zip.ZipFile (the reader the reference takes `sbd.zip` in
 * with) reads them, through the central directory; throws with Java's error when it refuses.
 */
export function javaReadZipFile(dir: string, path: string): JavaEntry[] {
  const source = join(dir, 'FileReader.java')
  writeFileSync(source, FILE_READER)
  return parse(execFileSync('java', [source, path], { stdio: ['ignore', 'pipe', 'pipe'] }).toString())
}

/** The same for a zip streamed to the reader's stdin, without hashing (for entries of gigabytes). */
export async function javaReadZipStream(dir: string, zip: Readable): Promise<JavaEntry[]> {
  const child = spawn('java', [readerIn(dir), '-', 'nohash'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let [out, err] = ['', '']
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    err += d
  })
  const exited = once(child, 'close')
  // a reader that refuses stops reading: its own error says why, not the broken pipe
  const written = await pipeline(zip, child.stdin).then(
    () => null,
    (e: Error) => e,
  )
  const [code] = await exited
  if (code !== 0) throw new Error(`ZipInputStream refused the zip: ${err}`)
  // it stops at the central directory, which it does not read: a pipe broken there is no error
  if (written && (written as NodeJS.ErrnoException).code !== 'EPIPE') throw written
  return parse(out)
}
