// Masakari's policy (docs/upstream.md, "Policy"; D9): upstream's rule names and
// defaults, evaluated by a small engine for oslo.policy's rule language, with
// overrides from a JSON policy document in configuration.

/** Upstream's defaults: everything but the versions document is admin-only. */
export const DEFAULT_RULES: Readonly<Record<string, string>> = {
  context_is_admin: "role:admin",
  admin_or_owner: "is_admin:True or project_id:%(project_id)s",
  admin_api: "is_admin:True",
  ...Object.fromEntries(
    [
      ["segments", ["index", "detail", "create", "update", "delete", "discoverable"]],
      ["os-hosts", ["index", "detail", "create", "update", "delete", "discoverable"]],
      ["notifications", ["index", "detail", "create", "discoverable"]],
      ["vmoves", ["index", "detail", "discoverable"]],
      ["extensions", ["index", "detail", "discoverable"]],
    ].flatMap(([resource, actions]) =>
      (actions as string[]).map((action) => [`os_masakari_api:${resource}:${action}`, "rule:admin_api"]),
    ),
  ),
  "os_masakari_api:versions:index": "@",
  "os_masakari_api:versions:discoverable": "@",
  // Ours (D21-D24), admin by default like the rest.
  ...Object.fromEntries(
    [
      ["os-notification-actions", ["action", "retry", "abort", "ignore", "release", "discoverable"]],
      ["os-storm-guard", ["discoverable"]],
      ["os-recovery-plans", ["host", "segment", "discoverable"]],
      ["os-evacuation-priorities", ["discoverable"]],
      // Ours: a notification's recovery as Server-Sent Events (the console's live pages).
      ["os-notification-events", ["index", "discoverable"]],
    ].flatMap(([resource, actions]) =>
      (actions as string[]).map((action) => [`os_masakari_api:${resource}:${action}`, "rule:admin_api"]),
    ),
  ),
  // Ours: GET /metrics (docs/metrics.md); METRICS_TOKEN is the other way in.
  "os_masakari_api:metrics": "rule:admin_api",
};

/** The policy names the API enforces, by resource and action. */
export const policies = {
  segments: {
    index: "os_masakari_api:segments:index",
    detail: "os_masakari_api:segments:detail",
    create: "os_masakari_api:segments:create",
    update: "os_masakari_api:segments:update",
    delete: "os_masakari_api:segments:delete",
  },
  hosts: {
    index: "os_masakari_api:os-hosts:index",
    detail: "os_masakari_api:os-hosts:detail",
    create: "os_masakari_api:os-hosts:create",
    update: "os_masakari_api:os-hosts:update",
    delete: "os_masakari_api:os-hosts:delete",
  },
  notifications: {
    index: "os_masakari_api:notifications:index",
    detail: "os_masakari_api:notifications:detail",
    create: "os_masakari_api:notifications:create",
  },
  vmoves: {
    index: "os_masakari_api:vmoves:index",
    detail: "os_masakari_api:vmoves:detail",
  },
  extensions: {
    index: "os_masakari_api:extensions:index",
    detail: "os_masakari_api:extensions:detail",
  },
  actions: {
    action: "os_masakari_api:os-notification-actions:action",
    retry: "os_masakari_api:os-notification-actions:retry",
    abort: "os_masakari_api:os-notification-actions:abort",
    ignore: "os_masakari_api:os-notification-actions:ignore",
    release: "os_masakari_api:os-notification-actions:release",
  },
  plans: {
    host: "os_masakari_api:os-recovery-plans:host",
    segment: "os_masakari_api:os-recovery-plans:segment",
  },
  events: {
    index: "os_masakari_api:os-notification-events:index",
  },
  metrics: {
    read: "os_masakari_api:metrics",
  },
} as const;

export const discoverable = (alias: string) => `os_masakari_api:${alias}:discoverable`;

/** What a rule is checked against: the caller's credentials. */
export interface Credentials {
  readonly user_id: string | null;
  readonly project_id: string | null;
  readonly roles: readonly string[];
  readonly is_admin: boolean;
}

/** The policy target: upstream passes the caller's own project and user. */
export type Target = Readonly<Record<string, string | null>>;

type Rule =
  | { kind: "true" }
  | { kind: "false" }
  | { kind: "not"; rule: Rule }
  | { kind: "and" | "or"; rules: Rule[] }
  | { kind: "rule"; name: string }
  | { kind: "role"; match: string }
  | { kind: "generic"; key: string; match: string };

export class PolicyError extends Error {}

/**
 * oslo.policy's tokenizer: whitespace-separated words, with parentheses
 * peeled off the start and end of each word only, so a check such as
 * `project_id:%(project_id)s` stays whole.
 */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === "") continue;
    const opening = /^\(*/.exec(word)?.[0].length ?? 0;
    const inner = word.slice(opening);
    const body = inner.replace(/\)+$/, "");
    tokens.push(...Array<string>(opening).fill("("));
    if (body !== "") tokens.push(body);
    tokens.push(...Array<string>(inner.length - body.length).fill(")"));
  }
  return tokens;
}

function parseCheck(token: string, text: string): Rule {
  if (token === "@") return { kind: "true" };
  if (token === "!") return { kind: "false" };
  const colon = token.indexOf(":");
  if (colon <= 0)
    throw new PolicyError(`${JSON.stringify(text)}: ${JSON.stringify(token)} is not a check (kind:match)`);
  const key = token.slice(0, colon);
  const match = token.slice(colon + 1);
  if (key === "rule") return { kind: "rule", name: match };
  if (key === "role") return { kind: "role", match };
  return { kind: "generic", key, match };
}

/** Parses oslo.policy's rule language: checks, not/and/or, parentheses. */
export function parseRule(text: string): Rule {
  const tokens = tokenize(text);
  if (tokens.length === 0) return { kind: "true" };
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string): never => {
    throw new PolicyError(`${JSON.stringify(text)}: ${why}`);
  };
  const orExpr = (): Rule => {
    const rules = [andExpr()];
    while (peek()?.toLowerCase() === "or") {
      pos++;
      rules.push(andExpr());
    }
    return rules.length === 1 ? (rules[0] as Rule) : { kind: "or", rules };
  };
  const andExpr = (): Rule => {
    const rules = [unary()];
    while (peek()?.toLowerCase() === "and") {
      pos++;
      rules.push(unary());
    }
    return rules.length === 1 ? (rules[0] as Rule) : { kind: "and", rules };
  };
  const unary = (): Rule => {
    const token = peek();
    if (token === undefined) return fail("ends where a check was expected");
    pos++;
    if (token.toLowerCase() === "not") return { kind: "not", rule: unary() };
    if (token === "(") {
      const inner = orExpr();
      if (peek() !== ")") fail("missing )");
      pos++;
      return inner;
    }
    if (token === ")" || ["and", "or"].includes(token.toLowerCase())) fail(`unexpected ${JSON.stringify(token)}`);
    return parseCheck(token, text);
  };
  const rule = orExpr();
  if (pos < tokens.length) fail(`unexpected ${JSON.stringify(tokens[pos])}`);
  return rule;
}

/** Substitutes %(key)s from the target; undefined when a key is missing. */
function substitute(match: string, target: Target): string | undefined {
  let missing = false;
  const value = match.replace(/%\(([^)]+)\)s/g, (_, key: string) => {
    if (!Object.hasOwn(target, key)) missing = true;
    return String(target[key] ?? "None");
  });
  return missing ? undefined : value;
}

const pythonStr = (v: unknown) => (v === true ? "True" : v === false ? "False" : v === null ? "None" : String(v));

// A Python literal as a check's left side ('member':%(role)s, True:%(x)s).
function literal(key: string): string | undefined {
  if (/^'.*'$|^".*"$/.test(key)) return key.slice(1, -1);
  if (["True", "False", "None"].includes(key) || /^-?\d+$/.test(key)) return key;
  return undefined;
}

export class Policy {
  private readonly rules: Map<string, Rule>;

  /** Builds the policy; throws PolicyError naming a broken rule. */
  constructor(overrides: Readonly<Record<string, string>> = {}) {
    this.rules = new Map();
    for (const [name, text] of Object.entries({ ...DEFAULT_RULES, ...overrides })) {
      try {
        this.rules.set(name, parseRule(text));
      } catch (error) {
        throw new PolicyError(`policy rule ${JSON.stringify(name)}: ${(error as Error).message}`);
      }
    }
  }

  /** Whether the rule `name` lets `creds` act on `target`; unknown is no. */
  allows(name: string, creds: Credentials, target: Target): boolean {
    const rule = this.rules.get(name);
    return rule ? this.check(rule, creds, target, new Set([name])) : false;
  }

  private check(rule: Rule, creds: Credentials, target: Target, seen: Set<string>): boolean {
    switch (rule.kind) {
      case "true":
        return true;
      case "false":
        return false;
      case "not":
        return !this.check(rule.rule, creds, target, seen);
      case "and":
        return rule.rules.every((r) => this.check(r, creds, target, seen));
      case "or":
        return rule.rules.some((r) => this.check(r, creds, target, seen));
      case "rule": {
        const named = this.rules.get(rule.name);
        // A rule that refers back to itself cannot hold.
        if (!named || seen.has(rule.name)) return false;
        return this.check(named, creds, target, new Set([...seen, rule.name]));
      }
      case "role": {
        const wanted = substitute(rule.match, target);
        return wanted !== undefined && creds.roles.some((r) => r.toLowerCase() === wanted.toLowerCase());
      }
      case "generic": {
        const match = substitute(rule.match, target);
        if (match === undefined) return false;
        const lit = literal(rule.key);
        if (lit !== undefined) return match === lit;
        let value: unknown = creds;
        for (const part of rule.key.split(".")) {
          if (typeof value !== "object" || value === null || !Object.hasOwn(value, part)) return false;
          value = (value as Record<string, unknown>)[part];
        }
        if (Array.isArray(value)) return value.map(pythonStr).includes(match);
        return match === pythonStr(value);
      }
    }
  }
}
