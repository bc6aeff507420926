// --os-cloud: a cloud from clouds.yaml (where openstacksdk looks for it),
// a Keystone v3 token for it, and the instance-ha endpoint of its catalog.
// Password, application credential and token auth are exchanged at
// POST /v3/auth/tokens; `none` and `admin_token` are used as they are
// (the reference's clouds.yaml is `auth_type: none` with an endpoint).

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { parse } from "yaml";
import { USER_AGENT } from "./http.mjs";
import { UsageError } from "./target.mjs";

/** Where openstacksdk looks, first found wins; the environment variable alone when it is set. */
export function configCandidates(kind, env = process.env, cwd = process.cwd(), home = homedir()) {
  const variable = kind === "clouds" ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  if (variable) return [variable];
  const dirs = [cwd, join(home, ".config", "openstack"), "/etc/openstack"];
  return dirs.flatMap((dir) => ["yaml", "yml", "json"].map((ext) => join(dir, `${kind}.${ext}`)));
}

function readFirst(paths) {
  for (const path of paths) {
    let text;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if (error.code === "ENOENT") continue;
      throw new UsageError(`cannot read ${path}: ${error.message}`);
    }
    try {
      // YAML 1.1, as openstacksdk reads these files (PyYAML): `verify: no` is false.
      return { path, config: parse(text, { version: "1.1" }) ?? {} };
    } catch (error) {
      throw new UsageError(`${path}: ${error.message.trimEnd()}`);
    }
  }
  return null;
}

/** The named cloud, with secure.yaml's entries for it merged over it. */
export function loadCloud(name, env = process.env, cwd = process.cwd(), home = homedir()) {
  const candidates = configCandidates("clouds", env, cwd, home);
  const clouds = readFirst(candidates);
  if (!clouds) throw new UsageError(`--os-cloud ${name}: no clouds.yaml (looked for ${candidates.join(", ")})`);
  const cloud = clouds.config?.clouds?.[name];
  if (!cloud || typeof cloud !== "object") {
    const known = Object.keys(clouds.config?.clouds ?? {});
    throw new UsageError(
      `--os-cloud ${name}: ${clouds.path} has no such cloud (it has: ${known.join(", ") || "none"})`,
    );
  }
  if (cloud.profile) {
    throw new UsageError(`--os-cloud ${name}: vendor profiles (profile: ${cloud.profile}) are not supported`);
  }
  const secure = readFirst(configCandidates("secure", env, cwd, home));
  const merged = merge(cloud, secure?.config?.clouds?.[name] ?? {});
  return { ...merged, name, source: clouds.path };
}

function merge(base, over) {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const both = value && typeof value === "object" && !Array.isArray(value) && typeof out[key] === "object";
    out[key] = both ? merge(out[key], value) : value;
  }
  return out;
}

/** clouds.yaml's cacert and verify, for every TLS connection this process makes. */
export function applyTls(cloud, warn) {
  if (cloud.cacert) {
    let pem;
    try {
      pem = readFileSync(cloud.cacert, "utf8");
    } catch (error) {
      throw new UsageError(`--os-cloud ${cloud.name}: cacert ${cloud.cacert}: ${error.message}`);
    }
    tls.setDefaultCACertificates([...tls.getCACertificates("default"), pem]);
  }
  if (cloud.verify === false) {
    warn(`--os-cloud ${cloud.name} has verify: false: TLS certificates are not checked`);
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  }
}

const PASSWORD = new Set(["password", "v3password"]);
const APPLICATION_CREDENTIAL = new Set(["v3applicationcredential", "applicationcredential"]);
const TOKEN = new Set(["token", "v3token"]);
const STATIC = new Set(["none", "noauth", "admin_token"]);

/**
 * Authenticates as the cloud says.
 * @returns {Promise<{ token: string | null, endpoint: string | null, how: string }>}
 *   endpoint: the instance-ha endpoint (catalog, override or auth.endpoint), null when none
 */
export async function authenticate(cloud, { timeoutMs, signal }) {
  const auth = cloud.auth ?? {};
  const type = String(cloud.auth_type ?? (auth.application_credential_secret ? "v3applicationcredential" : "password"));
  const override = cloud.instance_ha_endpoint_override ?? cloud.instance_ha_endpoint ?? null;
  if (STATIC.has(type)) {
    const token = type === "admin_token" ? str(auth.token) : null;
    if (type === "admin_token" && !token) {
      throw new UsageError(`--os-cloud ${cloud.name}: admin_token needs auth.token`);
    }
    return { token, endpoint: override ?? str(auth.endpoint), how: `cloud ${cloud.name} (${type})` };
  }
  const identity = identityFor(cloud, type, auth);
  const body = { auth: { identity } };
  if (!APPLICATION_CREDENTIAL.has(type)) {
    const scope = scopeFor(auth);
    if (scope) body.auth.scope = scope;
  }
  const url = `${identityUrl(cloud, auth)}/auth/tokens`;
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "User-Agent": USER_AGENT },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new KeystoneError(`POST ${url}: no answer: ${error?.cause?.code ?? error?.cause?.message ?? error.message}`);
  }
  const text = await response.text();
  const token = response.headers.get("x-subject-token");
  if (response.status !== 201 || !token) {
    let message = text.replace(/\s+/g, " ").slice(0, 200);
    try {
      message = JSON.parse(text)?.error?.message ?? message;
    } catch {}
    throw new KeystoneError(`POST ${url}: expected 201 with a token; received ${response.status} ${message}`);
  }
  const catalog = JSON.parse(text)?.token?.catalog ?? [];
  const endpoint = override ?? instanceHaEndpoint(catalog, cloud);
  return { token, endpoint, how: `cloud ${cloud.name} (${type}, Keystone token)` };
}

export class KeystoneError extends Error {}

function identityFor(cloud, type, auth) {
  if (PASSWORD.has(type)) {
    const user = named(auth, "user", "username", domainOf(auth, "user"));
    if (!user || auth.password === undefined) {
      throw new UsageError(
        `--os-cloud ${cloud.name}: password auth needs auth.username (or user_id) and auth.password`,
      );
    }
    return { methods: ["password"], password: { user: { ...user, password: str(auth.password) } } };
  }
  if (APPLICATION_CREDENTIAL.has(type)) {
    const secret = str(auth.application_credential_secret);
    const credential = auth.application_credential_id
      ? { id: str(auth.application_credential_id), secret }
      : {
          name: str(auth.application_credential_name),
          secret,
          user: named(auth, "user", "username", domainOf(auth, "user")),
        };
    if (!secret || (!credential.id && !(credential.name && credential.user))) {
      throw new UsageError(
        `--os-cloud ${cloud.name}: application credential auth needs auth.application_credential_secret and ` +
          "application_credential_id (or application_credential_name with the user)",
      );
    }
    return { methods: ["application_credential"], application_credential: credential };
  }
  if (TOKEN.has(type)) {
    if (!auth.token) throw new UsageError(`--os-cloud ${cloud.name}: token auth needs auth.token`);
    return { methods: ["token"], token: { id: str(auth.token) } };
  }
  throw new UsageError(
    `--os-cloud ${cloud.name}: auth_type ${type} is not supported (password, v3applicationcredential, token, admin_token, none)`,
  );
}

function scopeFor(auth) {
  if (auth.system_scope) return { system: { all: true } };
  const project =
    named(auth, "project", "project_name", domainOf(auth, "project")) ??
    named(auth, "tenant", "tenant_name", domainOf(auth, "project"));
  if (project) return { project };
  if (auth.domain_id) return { domain: { id: str(auth.domain_id) } };
  if (auth.domain_name) return { domain: { name: str(auth.domain_name) } };
  return null;
}

/** { id } or { name, domain }: by `<kind>_id`, else by name in its domain. */
function named(auth, kind, nameKey, domain) {
  if (auth[`${kind}_id`] !== undefined) return { id: str(auth[`${kind}_id`]) };
  if (auth[nameKey] === undefined) return null;
  return domain ? { name: str(auth[nameKey]), domain } : { name: str(auth[nameKey]) };
}

/** keystoneauth's order: user_/project_domain_*, then default_domain_*, then domain_*. */
function domainOf(auth, kind) {
  for (const prefix of [`${kind}_domain`, "default_domain", "domain"]) {
    if (auth[`${prefix}_id`] !== undefined) return { id: str(auth[`${prefix}_id`]) };
    if (auth[`${prefix}_name`] !== undefined) return { name: str(auth[`${prefix}_name`]) };
  }
  return null;
}

function identityUrl(cloud, auth) {
  const base = str(auth.auth_url)?.replace(/\/+$/, "");
  if (!base) throw new UsageError(`--os-cloud ${cloud.name}: auth.auth_url is missing`);
  if (/\/v2\.0$/.test(base)) throw new UsageError(`--os-cloud ${cloud.name}: Keystone v2.0 is not supported; use v3`);
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

/** The catalog's instance-ha endpoint for the cloud's interface and region. */
export function instanceHaEndpoint(catalog, cloud) {
  const types = new Set([str(cloud.instance_ha_service_type) ?? "instance-ha", "ha"]);
  const wanted = String(cloud.interface ?? cloud.endpoint_type ?? "public").replace(/URL$/, "");
  const region = str(cloud.region_name) ?? (Array.isArray(cloud.regions) ? regionName(cloud.regions[0]) : null);
  for (const service of catalog) {
    if (!types.has(service?.type)) continue;
    const endpoint = (service.endpoints ?? []).find(
      (e) => e.interface === wanted && (!region || e.region_id === region || e.region === region),
    );
    if (endpoint) return endpoint.url;
  }
  return null;
}

const regionName = (region) => (region && typeof region === "object" ? str(region.name) : str(region));
const str = (value) => (value === undefined || value === null ? null : String(value));
