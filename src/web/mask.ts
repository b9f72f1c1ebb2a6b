/**
 * Which configuration values the configuration page hides. By the property's last name element (in
 * the canonical form, lower-case letters and digits): passwords, secrets, tokens, keys and key material;
 * by the whole key: the datasource's user; by the value: credentials inside a URL, and PEM private keys
 * wherever they are.
 */
const SECRET_ELEMENT = /(password|passwd|pwd|secret|token|credentials?|apikey|privatekey|jwk|^key)$/
const SECRET_QUERY = /([?&;](?:password|pass|pwd|secret|token|user|username)=)[^&;]*/gi
const URL_CREDENTIALS = /^((?:jdbc:)?[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i

export const HIDDEN = '•••••• (set, hidden)'

export function isSecretKey(key: string): boolean {
  const elements = key.toLowerCase().split('.')
  const last = (elements.at(-1) ?? '').replace(/\[\d+\]$/, '').replace(/[^a-z0-9]/g, '')
  if (SECRET_ELEMENT.test(last)) return true
  return elements.some((e) => e.includes('datasource')) && (last === 'username' || last === 'user')
}

/** The value as the page may show it. */
export function maskValue(key: string, value: string): string {
  if (value === '') return value
  if (isSecretKey(key) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) return HIDDEN
  return value.replace(URL_CREDENTIALS, '$1***:***@').replace(SECRET_QUERY, '$1***')
}
