import { ToolError } from "../../errors.js";
import { type AddressClass, classifyAddress } from "./address-policy.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (the default asks the operating system, as Node's http does). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) => {
  // Loaded on use, like the rest of the HTTP client's built-ins (see transport.ts).
  const { lookup } = process.getBuiltinModule("node:dns/promises");
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** Names of cloud metadata services: refused before resolution, whatever they resolve to. */
const METADATA_NAMES = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
]);

export interface EgressGuardOptions {
  /** `http.allowHosts`: exact host names or IP addresses, or `*.example.com` for every subdomain. */
  allowHosts: readonly string[];
  resolve?: HostResolver;
}

/**
 * Decides whether http.request may connect to a URL's host, and to which address. The host is
 * resolved once here; the caller connects to the returned address (keeping the name for the Host
 * header and TLS), so a DNS answer that changes between check and connect cannot redirect the call.
 *
 * Private, loopback, link-local, unique-local, shared, reserved and multicast addresses are refused
 * unless the host is allow-listed. Cloud metadata addresses and names are refused unless listed exactly
 * (a wildcard entry never lifts them).
 */
export class EgressGuard {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly resolve: HostResolver;

  constructor(options: EgressGuardOptions) {
    for (const entry of options.allowHosts) {
      const trimmed = entry.trim().toLowerCase();
      if (trimmed.startsWith("*.")) this.suffixes.push(`.${canonicalHost(trimmed.slice(2))}`);
      else if (trimmed) this.exact.add(canonicalHost(trimmed));
    }
    this.resolve = options.resolve ?? systemResolver;
  }

  /** The address to connect to for `url`, or a non-retryable ToolError saying why the host is refused. */
  async check(url: URL): Promise<ResolvedAddress> {
    const host = canonicalHost(url.hostname);
    const listedExactly = this.exact.has(host);
    const listed = listedExactly || this.suffixes.some((suffix) => host.endsWith(suffix));
    if (METADATA_NAMES.has(host) && !listedExactly) {
      throw refused(url, `${host} is a cloud metadata service`);
    }
    const literal = isIP(host);
    const addresses = literal
      ? [{ address: host, family: literal === 6 ? 6 : 4 } as const]
      : await this.resolveHost(url, host);
    if (addresses.length === 0) {
      throw new ToolError(`http.request could not resolve ${host}: no addresses`, {
        code: "dns_error",
        retryable: true,
      });
    }
    // Every answer must pass: a name with one public and one private address is refused, since the
    // choice between them is not ours to make safely.
    for (const { address } of addresses) {
      const kind = classifyAddress(address);
      if (kind === undefined) continue;
      if (kind === "cloud metadata" ? listedExactly : listed) continue;
      throw refused(url, describe(host, address, kind));
    }
    return addresses[0]!;
  }

  private async resolveHost(url: URL, host: string): Promise<ResolvedAddress[]> {
    try {
      const found = await this.resolve(host);
      for (const entry of found) {
        if (isIP(entry.address) === 0) {
          throw new ToolError(`http.request got a malformed address for ${host} from DNS`, {
            code: "dns_error",
            retryable: false,
          });
        }
      }
      return found;
    } catch (error) {
      if (error instanceof ToolError) throw error;
      const code = (error as { code?: unknown }).code;
      const permanent = code === "ENOTFOUND" || code === "ENODATA";
      throw new ToolError(
        `http.request could not resolve ${url.hostname}${typeof code === "string" ? ` (${code})` : ""}${permanent ? ": check the host name" : ""}`,
        { code: "dns_error", retryable: !permanent },
      );
    }
  }
}

/** Lower case, no trailing dot, IPv6 without brackets; IPv4 spellings are already canonical in a URL. */
export function canonicalHost(host: string): string {
  let value = host.toLowerCase();
  if (value.endsWith(".")) value = value.slice(0, -1);
  if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
  // `2130706433`, `0x7f.1`, `0177.0.0.1`, `0:0::1`: the URL parser writes them the one way a URL shows them.
  const spelling =
    isIP(value) === 6 ? `[${value}]` : isIP(value) === 0 && /^[0-9a-fx.]+$/.test(value) ? value : undefined;
  if (spelling === undefined) return value;
  try {
    const parsed = new URL(`http://${spelling}/`).hostname;
    return parsed.startsWith("[") ? parsed.slice(1, -1) : parsed;
  } catch {
    return value;
  }
}

function describe(host: string, address: string, kind: AddressClass): string {
  const subject = host === address ? address : `${host} resolves to ${address}, which`;
  return `${subject} is ${kind === "unspecified" ? "an unspecified" : `a ${kind}`} address`;
}

function refused(url: URL, reason: string): ToolError {
  return new ToolError(
    `http.request refused ${url.protocol}//${url.host}: ${reason}; if this host is meant to be reached, an operator can add it to http.allowHosts (AAT_HTTP_ALLOW_HOSTS)`,
    { code: "egress_refused", retryable: false },
  );
}

/** node:net's isIP, with node:net loaded on first use (see transport.ts). */
function isIP(input: string): number {
  return process.getBuiltinModule("node:net").isIP(input);
}
