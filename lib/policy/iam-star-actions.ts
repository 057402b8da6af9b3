import type { CheckedResource, NodePolicy, PolicyViolation } from "./rules";

const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const POLICY = "aws:iam/policy:Policy";
const ROLE = "aws:iam/role:Role";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

// AWS managed policies that amount to Action "*" (PowerUserAccess: an Allow with NotAction iam:*, organizations:*, account:*).
const ADMIN_MANAGED = /^arn:aws[a-z-]*:iam::aws:policy\/(AdministratorAccess|PowerUserAccess)$/;

type Parsed = { statements: { Effect?: unknown; Action?: unknown; NotAction?: unknown }[] } | { error: string };

function parse(policy: unknown): Parsed {
  let doc = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return { error: "is not valid JSON" };
    }
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return { error: "is not a policy document" };
  const raw = (doc as { Statement?: unknown }).Statement;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.some((s) => !s || typeof s !== "object")) return { error: "has a Statement that is not an object" };
  return { statements: list as { Effect?: unknown; Action?: unknown; NotAction?: unknown }[] };
}

const strings = (v: unknown): string[] => (v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** What in a document grants every action: Action "*" (or "*:*"), or an Allow with NotAction. */
function everyActionGrants(policy: unknown): string[] | string {
  const parsed = parse(policy);
  if ("error" in parsed) return parsed.error;
  return parsed.statements
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) => [
      ...strings(s.Action)
        .filter((a) => /^\*(:\*)?$/.test(a.trim()))
        .map((a) => `Action "${a}"`),
      ...(strings(s.NotAction).length ? [`everything but NotAction ${JSON.stringify(strings(s.NotAction))}`] : []),
    ]);
}

/**
 * No IAM policy of any role grants every action. The processor-role rule is stricter (no `service:*`)
 * for the roles third-party code runs as; this one covers the node's own roles too. An unreadable
 * document fails, since it cannot be shown to comply.
 */
export const noStarActions: NodePolicy = {
  name: "iam-no-star-actions",
  description: 'No IAM policy of the node allows Action "*" (or everything but a NotAction list), directly or through an administrator managed policy.',
  modes: ["basic", "secure", "compliant"],
  check(resources: readonly CheckedResource[]): PolicyViolation[] {
    const out: PolicyViolation[] = [];
    const judge = (holder: CheckedResource, where: string, policy: unknown) => {
      const found = everyActionGrants(policy);
      if (typeof found === "string") out.push({ policy: this.name, resource: holder.name, message: `${where} cannot be checked: its policy ${found}` });
      else for (const grant of found) out.push({ policy: this.name, resource: holder.name, message: `${where} allows ${grant}: list the actions the role needs` });
    };
    for (const r of resources) {
      if (r.type === ROLE_POLICY) judge(r, `role policy "${r.name}"`, r.inputs.policy);
      if (r.type === POLICY) judge(r, `IAM policy "${r.name}"`, r.inputs.policy);
      if (r.type === ROLE) {
        const inline = Array.isArray(r.inputs.inlinePolicies) ? (r.inputs.inlinePolicies as { name?: unknown; policy?: unknown }[]) : [];
        // The provider reports a role without inline policies as [{ name: "", policy: "" }].
        for (const p of inline) if (p?.policy !== undefined && p.policy !== "") judge(r, `inline policy ${JSON.stringify(p.name ?? "")} of role "${r.name}"`, p.policy);
        for (const arn of strings(r.inputs.managedPolicyArns))
          if (ADMIN_MANAGED.test(arn)) out.push({ policy: this.name, resource: r.name, message: `role "${r.name}" has ${arn} attached, which allows every action: attach a policy that lists the actions needed` });
      }
      if (r.type === ATTACHMENT && ADMIN_MANAGED.test(String(r.inputs.policyArn)))
        out.push({ policy: this.name, resource: r.name, message: `attachment "${r.name}" attaches ${String(r.inputs.policyArn)}, which allows every action: attach a policy that lists the actions needed` });
    }
    return out;
  },
};
