/**
 * The address `serve` listens on, as people see it: the URL to open, and
 * whether other computers can reach the page.
 * @module
 */
import { type AddressInfo, isIPv4 } from 'node:net'

/** Whether `address`, an IP address the server is bound to, is loopback: reachable from this computer only. */
export function isLoopback(address: string): boolean {
  const v4 = address.toLowerCase().replace(/^::ffff:/, '')
  return isIPv4(v4) ? v4.startsWith('127.') : address === '::1'
}

/** Whether `address` is the wildcard, which listens on every network interface. */
export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::'
}

/** `host` as the host part of a URL: IPv6 addresses in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/**
 * The URL to open: the host as given, but for the wildcard (where no
 * browser can be sent: Chromium refuses 0.0.0.0) the loopback address of
 * its family, which the wildcard includes.
 */
export function pageUrl(host: string, { address, family, port }: AddressInfo): string {
  const shown = isWildcard(address) ? (family === 'IPv6' ? '::1' : '127.0.0.1') : host
  return `http://${urlHost(shown)}:${port}/`
}

/** One line saying that the page is open to the network, for an address beyond loopback; undefined for loopback. */
export function networkWarning(address: string): string | undefined {
  if (isLoopback(address)) return undefined
  const where = isWildcard(address) ? `every network interface (${address})` : address
  return `listening on ${where}: anyone who can reach this computer can open the page and train in it (--host 127.0.0.1 keeps it to this computer)`
}
