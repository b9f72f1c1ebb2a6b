import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'

/**
 * Keys and certificates parsed once, not for every message. Every message an integration point sends is
 * signed with the same business key and encrypted to one of a few receivers' certificates, and every
 * message it receives is decrypted with that key and signed by one of a few senders: parsing the same
 * PEM again cost a few percent of each message's CPU in the DPO profiles (bench/README.md, issue 20).
 * `KeyObject` and `X509Certificate` are immutable, so one instance can serve every caller. Failures are
 * not remembered: a text that does not parse throws each time, as it did, and a promise that rejects
 * (a key imported into WebCrypto) is forgotten, so the next call tries again.
 */
class Parsed<K, V> {
  readonly #entries = new Map<K, V>()

  constructor(
    readonly size: number,
    readonly parse: (key: K) => V,
  ) {}

  get(key: K): V {
    let value = this.#entries.get(key)
    if (value === undefined) {
      value = this.parse(key)
      // bounded: oldest first out (a Map iterates in insertion order)
      if (this.#entries.size >= this.size) this.#entries.delete(this.#entries.keys().next().value as K)
      this.#entries.set(key, value)
      if (value instanceof Promise) {
        const settling = value
        settling.catch(() => {
          if (this.#entries.get(key) === settling) this.#entries.delete(key)
        })
      }
    }
    return value
  }
}

// strings only: a Buffer key would be compared by identity
const certificates = new Parsed<string, X509Certificate>(64, (pem) => new X509Certificate(pem))
const privateKeys = new Parsed<string, KeyObject>(16, (pem) => createPrivateKey(pem))

/** The certificate in `pem`, parsed once. */
export function certificateOf(pem: string): X509Certificate {
  return certificates.get(pem)
}

/** The unencrypted private key in `pem`, parsed once. */
export function privateKeyOf(pem: string): KeyObject {
  return privateKeys.get(pem)
}

/** Something parsed from a key or certificate, once per `text` (e.g. a key's match to its certificate). */
export function parsedOnce<V>(size: number, parse: (text: string) => V): (text: string) => V {
  const parsed = new Parsed<string, V>(size, parse)
  return (text) => parsed.get(text)
}
