import { Fault, messages } from "./faults";

// Microversions of the instance-ha API (docs/upstream.md, "Microversions").
// Upstream master serves 1.0-1.3; the 14.0.2 release stopped at 1.2.
export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

export const MIN_VERSION: ApiVersion = { major: 1, minor: 0 };
export const MAX_VERSION: ApiVersion = { major: 1, minor: 3 };
export const HEADER = "OpenStack-API-Version";
const SERVICE_TYPE = "instance-ha";
const VERSION_PATTERN = /^([1-9][0-9]*)\.([1-9][0-9]*|0)$/;

export const versionString = (v: ApiVersion) => `${v.major}.${v.minor}`;

/** "1.2" as a version; only for versions written in the code. */
export function parseVersion(text: string): ApiVersion {
  const match = VERSION_PATTERN.exec(text);
  if (!match) throw new Error(`not a microversion: ${text}`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

export const atLeast = (v: ApiVersion, major: number, minor: number) => compareVersions(v, { major, minor }) >= 0;

/**
 * The version string the client asked for, as microversion_parse finds it:
 * the last comma-separated entry of OpenStack-API-Version whose service is
 * instance-ha (any case). Entries for other services, entries without a
 * version, and every other header are ignored.
 */
function requestedVersion(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const entry of header.split(",").reverse()) {
    const match = /^(\S+)\s+(.+)$/s.exec(entry.trim());
    if (match && match[1]?.toLowerCase() === SERVICE_TYPE) return match[2]?.trim();
  }
  return undefined;
}

/**
 * The microversion of a request: 1.0 when none is asked for, the maximum for
 * `latest`; 400 for a malformed version (without version headers) and 406
 * outside 1.0-max (echoing the version asked for).
 */
export function negotiateVersion(header: string | null): ApiVersion {
  const asked = requestedVersion(header);
  if (asked === undefined) return MIN_VERSION;
  if (asked === "latest") return MAX_VERSION;
  const match = VERSION_PATTERN.exec(asked);
  if (!match) throw new Fault(400, messages.invalidVersionString(asked));
  const version = { major: Number(match[1]), minor: Number(match[2]) };
  if (compareVersions(version, MIN_VERSION) < 0 || compareVersions(version, MAX_VERSION) > 0) {
    throw new Fault(
      406,
      messages.unsupportedVersion(versionString(version), versionString(MIN_VERSION), versionString(MAX_VERSION)),
      versionHeaders("instance-ha", version),
    );
  }
  return version;
}

/**
 * The version headers of a v1 response. Upstream names the service "masakari"
 * on success and "instance-ha" on faults (docs/upstream.md, "Microversions");
 * clients that compare headers see the same inconsistency here.
 */
export function versionHeaders(service: "masakari" | "instance-ha", v: ApiVersion): Record<string, string> {
  return { [HEADER]: `${service} ${versionString(v)}`, Vary: HEADER };
}
