/**
 * The Host header check of `serve`, against DNS rebinding: a page on
 * another site whose name is then made to resolve to 127.0.0.1 sends its
 * own name as Host; the browser treats it as that site, and would let it
 * read the model and MNIST from this server. Only the names and addresses
 * of this server are answered.
 * @module
 */
import type { AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { isLoopback, isWildcard, urlHost } from './address.js'

/** A Host header: a name or IPv4 address, or an IPv6 address in brackets, then perhaps a port. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?$/i

/** `hostname` as browsers send it (lower case, IP addresses in their shortest form), or undefined if it is none. */
function canonical(hostname: string): string | undefined {
  try {
    return new URL(`http://${hostname}/`).hostname
  } catch {
    return undefined
  }
}

/** The addresses of this computer's network interfaces, as URL hosts. */
function interfaceHosts(): string[] {
  return Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map(({ address }) => urlHost(address)))
}

/**
 * A check of Host headers for a server listening on `host` (as given:
 * a name or an address) at `bound`: undefined for a header it answers to,
 * else the refusal to send. It answers, on its port, to `host`, to the
 * address it is bound to and to `localhost`; on loopback, to every
 * loopback address (127.0.0.0/8, [::1]); on the wildcard, to every
 * address of this computer (`interfaces`, read at each request: they change).
 */
export function hostCheck(host: string, bound: AddressInfo, interfaces: () => string[] = interfaceHosts): (header: string | undefined) => string | undefined {
  const own = new Set(['localhost', urlHost(host), urlHost(bound.address)].map(canonical))
  const wildcard = isWildcard(bound.address)
  const anyLoopback = wildcard || isLoopback(bound.address)
  const refusal = (header: string): string =>
    wildcard
      ? `this server answers to the addresses of this computer on port ${bound.port}, not to ${header}\n`
      : `this server answers to ${urlHost(host)}:${bound.port} (or localhost:${bound.port}), not to ${header}\n`
  return (header) => {
    const parts = HOST.exec(header ?? '')
    const hostname = parts && canonical(parts[1]!)
    // No port means HTTP's default, 80.
    const port = Number(parts?.[2] ?? 80)
    if (hostname && port === bound.port) {
      if (own.has(hostname)) return undefined
      if (anyLoopback && isLoopback(hostname.replace(/^\[(.*)\]$/, '$1'))) return undefined
      if (wildcard && interfaces().map(canonical).includes(hostname)) return undefined
    }
    return refusal(header ?? '(none)')
  }
}
