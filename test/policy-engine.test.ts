import { describe, expect, it } from "vitest";
import { type Credentials, DEFAULT_RULES, Policy, PolicyError, parseRule, type Target } from "../src/policy";

// The policy engine on its own (D9; docs/upstream.md, "Policy"): oslo.policy's
// rule language as far as masakari-edge claims it, and upstream's defaults.

const nobody: Credentials = { user_id: "u1", project_id: "p1", roles: [], is_admin: false };
const as = (fields: Partial<Credentials>): Credentials => ({ ...nobody, ...fields });
const ownTarget: Target = { project_id: "p1", user_id: "u1" };

/** Whether `rule`, as the only override named "t", allows `creds` on `target`. */
function holds(rule: string, creds: Partial<Credentials> = {}, target: Target = ownTarget, others = {}): boolean {
  return new Policy({ ...others, t: rule }).allows("t", as(creds), target);
}

describe("checks", () => {
  it("@ always holds and ! never does", () => {
    expect(holds("@")).toBe(true);
    expect(holds("@", { is_admin: true, roles: ["admin"] })).toBe(true);
    expect(holds("!")).toBe(false);
    expect(holds("!", { is_admin: true, roles: ["admin"] })).toBe(false);
  });

  it("an empty rule always holds", () => {
    expect(parseRule("")).toEqual(parseRule("@"));
    expect(holds("")).toBe(true);
    expect(holds("   ")).toBe(true);
  });

  it("role:x holds when the caller has role x, in any case", () => {
    expect(holds("role:admin", { roles: ["admin"] })).toBe(true);
    expect(holds("role:admin", { roles: ["member", "Admin"] })).toBe(true);
    expect(holds("role:ADMIN", { roles: ["admin"] })).toBe(true);
    expect(holds("role:admin", { roles: ["member", "reader"] })).toBe(false);
    expect(holds("role:admin", { roles: [] })).toBe(false);
    // A role is a whole name, not a prefix or a substring.
    expect(holds("role:admin", { roles: ["administrator"] })).toBe(false);
    expect(holds("role:adm", { roles: ["admin"] })).toBe(false);
  });

  it("role:%(key)s takes the role from the target", () => {
    expect(holds("role:%(wanted)s", { roles: ["ops"] }, { wanted: "ops" })).toBe(true);
    expect(holds("role:%(wanted)s", { roles: ["ops"] }, { wanted: "dev" })).toBe(false);
  });

  it("is_admin:True follows the context's is_admin, not its roles", () => {
    expect(holds("is_admin:True", { is_admin: true })).toBe(true);
    expect(holds("is_admin:True", { is_admin: false })).toBe(false);
    expect(holds("is_admin:True", { is_admin: false, roles: ["admin"] })).toBe(false);
    expect(holds("is_admin:False", { is_admin: false })).toBe(true);
    // The value is compared with Python's str(True): lower case never matches.
    expect(holds("is_admin:true", { is_admin: true })).toBe(false);
  });

  it("project_id:%(project_id)s compares the caller's project with the target's", () => {
    expect(holds("project_id:%(project_id)s", { project_id: "p1" }, { project_id: "p1" })).toBe(true);
    expect(holds("project_id:%(project_id)s", { project_id: "p1" }, { project_id: "p2" })).toBe(false);
    expect(holds("project_id:p1", { project_id: "p1" })).toBe(true);
    expect(holds("project_id:p2", { project_id: "p1" })).toBe(false);
  });

  it("user_id:%(user_id)s compares the caller's user with the target's", () => {
    expect(holds("user_id:%(user_id)s", { user_id: "u1" }, { user_id: "u1" })).toBe(true);
    expect(holds("user_id:%(user_id)s", { user_id: "u1" }, { user_id: "u2" })).toBe(false);
  });

  it("a check against a list credential holds when any element matches", () => {
    expect(holds("roles:member", { roles: ["reader", "member"] })).toBe(true);
    expect(holds("roles:admin", { roles: ["reader", "member"] })).toBe(false);
  });

  it("a literal left side is compared with the target value ('member':%(role)s)", () => {
    expect(holds("'member':%(role)s", {}, { role: "member" })).toBe(true);
    expect(holds("'member':%(role)s", {}, { role: "reader" })).toBe(false);
    expect(holds('"member":%(role)s', {}, { role: "member" })).toBe(true);
    expect(holds("True:%(flag)s", {}, { flag: "True" })).toBe(true);
    expect(holds("True:%(flag)s", {}, { flag: "False" })).toBe(false);
    expect(holds("42:%(n)s", {}, { n: "42" })).toBe(true);
  });

  it("a check on a credential the caller does not have never holds", () => {
    expect(holds("domain_id:d1")).toBe(false);
    expect(holds("nosuch:%(project_id)s")).toBe(false);
  });

  it("a %(key)s missing from the target makes the check false", () => {
    expect(holds("user_id:%(owner)s", { user_id: "u1" }, { user_id: "u1" })).toBe(false);
    expect(holds("role:%(missing)s", { roles: ["admin"] }, {})).toBe(false);
    expect(holds("'member':%(role)s", {}, {})).toBe(false);
    expect(holds("project_id:%(project_id)s", { project_id: "p1" }, { user_id: "u1" })).toBe(false);
  });
});

describe("rule references", () => {
  it("rule:x holds when rule x does", () => {
    expect(holds("rule:ops", { roles: ["ops"] }, ownTarget, { ops: "role:ops" })).toBe(true);
    expect(holds("rule:ops", { roles: ["dev"] }, ownTarget, { ops: "role:ops" })).toBe(false);
  });

  it("rule:x follows a chain of rules and rules shared by several branches", () => {
    const others = { a: "rule:b", b: "rule:c", c: "role:ops", d: "rule:c and rule:b" };
    expect(holds("rule:a", { roles: ["ops"] }, ownTarget, others)).toBe(true);
    expect(holds("rule:d and rule:a", { roles: ["ops"] }, ownTarget, others)).toBe(true);
    expect(holds("rule:a", { roles: ["dev"] }, ownTarget, others)).toBe(false);
  });

  it("an unknown rule never holds, whether referred to or asked for", () => {
    expect(holds("rule:no_such_rule", { is_admin: true, roles: ["admin"] })).toBe(false);
    expect(new Policy().allows("no_such_rule", as({ is_admin: true, roles: ["admin"] }), ownTarget)).toBe(false);
    expect(new Policy().allows("os_masakari_api:segments:frobnicate", as({ is_admin: true }), ownTarget)).toBe(false);
  });

  it("a rule referring to itself cannot hold", () => {
    const policy = new Policy({ loop: "rule:loop", ping: "rule:pong", pong: "rule:ping" });
    const admin = as({ is_admin: true, roles: ["admin"] });
    expect(policy.allows("loop", admin, ownTarget)).toBe(false);
    expect(policy.allows("ping", admin, ownTarget)).toBe(false);
    expect(policy.allows("pong", admin, ownTarget)).toBe(false);
  });
});

describe("operators", () => {
  it("not inverts a check", () => {
    expect(holds("not role:a", { roles: ["a"] })).toBe(false);
    expect(holds("not role:a", { roles: ["b"] })).toBe(true);
    expect(holds("not not role:a", { roles: ["a"] })).toBe(true);
    expect(holds("not @")).toBe(false);
    expect(holds("not !")).toBe(true);
  });

  it("and needs every check, or needs one", () => {
    expect(holds("role:a and role:b", { roles: ["a", "b"] })).toBe(true);
    expect(holds("role:a and role:b", { roles: ["a"] })).toBe(false);
    expect(holds("role:a and role:b and role:c", { roles: ["a", "b"] })).toBe(false);
    expect(holds("role:a or role:b", { roles: ["b"] })).toBe(true);
    expect(holds("role:a or role:b", { roles: ["c"] })).toBe(false);
    expect(holds("role:a or role:b or role:c", { roles: ["c"] })).toBe(true);
  });

  it("operators are words in any case", () => {
    expect(holds("role:a AND role:b", { roles: ["a"] })).toBe(false);
    expect(holds("role:a OR role:b", { roles: ["b"] })).toBe(true);
    expect(holds("NOT role:a", { roles: ["b"] })).toBe(true);
  });

  it("and binds tighter than or", () => {
    // role:a or (role:b and role:c), not (role:a or role:b) and role:c
    expect(holds("role:a or role:b and role:c", { roles: ["a"] })).toBe(true);
    // (role:a and role:b) or role:c, not role:a and (role:b or role:c)
    expect(holds("role:a and role:b or role:c", { roles: ["c"] })).toBe(true);
    expect(holds("role:a and role:b or role:c", { roles: ["b"] })).toBe(false);
  });

  it("not binds tighter than and and or", () => {
    // (not role:a) and role:b, not not (role:a and role:b)
    expect(holds("not role:a and role:b", { roles: [] })).toBe(false);
    expect(holds("not role:a and role:b", { roles: ["b"] })).toBe(true);
    // (not role:a) or role:b, not not (role:a or role:b)
    expect(holds("not role:a or role:b", { roles: ["a", "b"] })).toBe(true);
    expect(holds("not role:a or role:b", { roles: ["a"] })).toBe(false);
  });

  it("parentheses group, also when glued to the words they enclose", () => {
    const rule = "(role:a or role:b) and not role:c";
    expect(holds(rule, { roles: ["a"] })).toBe(true);
    expect(holds(rule, { roles: ["b"] })).toBe(true);
    expect(holds(rule, { roles: ["b", "c"] })).toBe(false);
    expect(holds(rule, { roles: ["c"] })).toBe(false);
    // Without them, and would bind first: role:a or (role:b and not role:c).
    expect(holds("role:a or role:b and not role:c", { roles: ["a", "c"] })).toBe(true);
    expect(holds(rule, { roles: ["a", "c"] })).toBe(false);

    expect(holds("(role:a)", { roles: ["a"] })).toBe(true);
    expect(holds("(role:a)", { roles: ["b"] })).toBe(false);
    expect(holds("((role:a))", { roles: ["a"] })).toBe(true);
    expect(holds("( role:a or role:b )", { roles: ["b"] })).toBe(true);
    expect(holds("not (role:a or role:b)", { roles: ["b"] })).toBe(false);
    expect(holds("not (role:a or role:b)", { roles: [] })).toBe(true);
    expect(holds("role:a and (role:b or (role:c and role:d))", { roles: ["a", "c", "d"] })).toBe(true);
    expect(holds("role:a and (role:b or (role:c and role:d))", { roles: ["a", "c"] })).toBe(false);
  });

  it("the parentheses of %(key)s stay inside their check", () => {
    expect(holds("(project_id:%(project_id)s)", { project_id: "p1" }, { project_id: "p1" })).toBe(true);
    expect(holds("(role:x or project_id:%(project_id)s) and not !", { project_id: "p1" }, { project_id: "p1" })).toBe(
      true,
    );
    expect(holds("(role:x or user_id:%(user_id)s)", { user_id: "u1" }, { user_id: "u2" })).toBe(false);
  });
});

describe("upstream defaults", () => {
  const admin = as({ user_id: "u-admin", project_id: "pa", roles: ["admin", "member"], is_admin: true });
  const member = as({ user_id: "u-member", project_id: "pm", roles: ["member", "reader"], is_admin: false });
  const anonymous = as({ user_id: null, project_id: null, roles: [], is_admin: false });
  const target = (c: Credentials): Target => ({ project_id: c.project_id, user_id: c.user_id });

  const adminOnly = [
    ...["index", "detail", "create", "update", "delete", "discoverable"].map((a) => `os_masakari_api:segments:${a}`),
    ...["index", "detail", "create", "update", "delete", "discoverable"].map((a) => `os_masakari_api:os-hosts:${a}`),
    ...["index", "detail", "create", "discoverable"].map((a) => `os_masakari_api:notifications:${a}`),
    ...["index", "detail", "discoverable"].map((a) => `os_masakari_api:vmoves:${a}`),
    ...["index", "detail", "discoverable"].map((a) => `os_masakari_api:extensions:${a}`),
  ];
  const anyone = ["os_masakari_api:versions:index", "os_masakari_api:versions:discoverable"];
  // Ours, not upstream's, each rule:admin_api like upstream's: D21-D24's
  // (README.md, "Where we differ from Masakari", rows D21-D24, and
  // "Extensions"), os-notification-events' (docs/console.md) and /metrics'.
  const oursAdminOnly = [
    ...["action", "retry", "abort", "ignore", "release", "discoverable"].map(
      (a) => `os_masakari_api:os-notification-actions:${a}`, // D21
    ),
    "os_masakari_api:os-storm-guard:discoverable", // D22
    ...["host", "segment", "discoverable"].map((a) => `os_masakari_api:os-recovery-plans:${a}`), // D23
    "os_masakari_api:os-evacuation-priorities:discoverable", // D24
    ...["index", "discoverable"].map((a) => `os_masakari_api:os-notification-events:${a}`), // docs/console.md
    "os_masakari_api:metrics", // GET /metrics (docs/metrics.md)
  ];

  it("names exactly upstream's rules and ours (D21-D24, os-notification-events, metrics)", () => {
    expect(Object.keys(DEFAULT_RULES).sort()).toEqual(
      ["context_is_admin", "admin_or_owner", "admin_api", ...adminOnly, ...anyone, ...oursAdminOnly].sort(),
    );
  });

  it.each(oursAdminOnly)("ours: %s is rule:admin_api", (name) => {
    expect(DEFAULT_RULES[name]).toBe("rule:admin_api");
  });

  it("context_is_admin is role:admin in any case", () => {
    const policy = new Policy();
    expect(policy.allows("context_is_admin", as({ roles: ["admin"] }), ownTarget)).toBe(true);
    expect(policy.allows("context_is_admin", as({ roles: ["reader", "ADMIN"] }), ownTarget)).toBe(true);
    expect(policy.allows("context_is_admin", as({ roles: ["member"] }), ownTarget)).toBe(false);
    expect(policy.allows("context_is_admin", as({ roles: [], is_admin: true }), ownTarget)).toBe(false);
  });

  it("admin_api is is_admin:True", () => {
    const policy = new Policy();
    expect(policy.allows("admin_api", admin, target(admin))).toBe(true);
    expect(policy.allows("admin_api", member, target(member))).toBe(false);
    expect(policy.allows("admin_api", as({ roles: ["admin"], is_admin: false }), ownTarget)).toBe(false);
  });

  it("admin_or_owner lets an admin or the target project's caller through", () => {
    const policy = new Policy();
    expect(policy.allows("admin_or_owner", admin, { project_id: "elsewhere", user_id: "x" })).toBe(true);
    expect(policy.allows("admin_or_owner", member, target(member))).toBe(true);
    expect(policy.allows("admin_or_owner", member, { project_id: "elsewhere", user_id: "u-member" })).toBe(false);
  });

  it.each([...adminOnly, ...oursAdminOnly])("%s is admin only", (name) => {
    const policy = new Policy();
    expect(policy.allows(name, admin, target(admin))).toBe(true);
    expect(policy.allows(name, member, target(member))).toBe(false);
    expect(policy.allows(name, anonymous, target(anonymous))).toBe(false);
    // Having the admin role is not enough: is_admin comes from context_is_admin.
    expect(policy.allows(name, as({ roles: ["admin"], is_admin: false }), ownTarget)).toBe(false);
  });

  it.each(anyone)("%s lets anyone through", (name) => {
    const policy = new Policy();
    expect(policy.allows(name, admin, target(admin))).toBe(true);
    expect(policy.allows(name, member, target(member))).toBe(true);
    expect(policy.allows(name, anonymous, target(anonymous))).toBe(true);
  });
});

describe("overrides", () => {
  const ops = as({ roles: ["ops"] });
  const admin = as({ roles: ["admin"], is_admin: true });

  it("an override replaces the default of that rule only", () => {
    const policy = new Policy({ "os_masakari_api:segments:index": "role:ops" });
    expect(policy.allows("os_masakari_api:segments:index", ops, ownTarget)).toBe(true);
    expect(policy.allows("os_masakari_api:segments:index", admin, ownTarget)).toBe(false);
    expect(policy.allows("os_masakari_api:segments:create", ops, ownTarget)).toBe(false);
    expect(policy.allows("os_masakari_api:segments:create", admin, ownTarget)).toBe(true);
  });

  it("overriding a base rule changes every default that refers to it", () => {
    const policy = new Policy({ admin_api: "is_admin:True or role:ops" });
    expect(policy.allows("os_masakari_api:os-hosts:create", ops, ownTarget)).toBe(true);
    expect(policy.allows("os_masakari_api:notifications:index", ops, ownTarget)).toBe(true);
    expect(policy.allows("os_masakari_api:segments:delete", admin, ownTarget)).toBe(true);
    expect(policy.allows("os_masakari_api:segments:delete", as({ roles: ["dev"] }), ownTarget)).toBe(false);
  });

  it("an override can close a default that was open, and add new rules", () => {
    const policy = new Policy({ "os_masakari_api:versions:index": "!", "my:rule": "rule:admin_api" });
    expect(policy.allows("os_masakari_api:versions:index", admin, ownTarget)).toBe(false);
    expect(policy.allows("os_masakari_api:versions:discoverable", ops, ownTarget)).toBe(true);
    expect(policy.allows("my:rule", admin, ownTarget)).toBe(true);
    expect(policy.allows("my:rule", ops, ownTarget)).toBe(false);
  });

  it("no overrides is upstream's defaults", () => {
    const policy = new Policy({});
    expect(policy.allows("os_masakari_api:segments:index", admin, ownTarget)).toBe(true);
    expect(policy.allows("os_masakari_api:segments:index", ops, ownTarget)).toBe(false);
  });
});

describe("broken rules", () => {
  const broken = ["role:a and", "(role:a", "role:a)", "foo", "and role:a", "role:a or or role:b", "()", "not"];

  it.each(broken)("parseRule(%j) throws a PolicyError quoting the rule", (text) => {
    expect(() => parseRule(text)).toThrow(PolicyError);
    expect(() => parseRule(text)).toThrow(JSON.stringify(text));
  });

  it.each(broken)("a policy with %j throws a PolicyError naming the rule", (text) => {
    let thrown: unknown;
    try {
      new Policy({ "os_masakari_api:segments:index": "@", "my:broken:rule": text });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    expect((thrown as Error).message).toContain("my:broken:rule");
  });

  it("a well-formed policy does not throw", () => {
    expect(() => new Policy({ a: "(role:a or role:b) and not role:c", b: "", c: "@", d: "!" })).not.toThrow();
  });
});
