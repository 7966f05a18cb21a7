import type { Template } from "aws-cdk-lib/assertions";

export interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** Every IAM statement of the policies attached to the given roles (logical ids). */
export function statementsOf(template: Template, roleIds: string[]): Statement[] {
  const policies = template.findResources("AWS::IAM::Policy");
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => roleIds.includes(role.Ref)),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** The logical ids a Resource value points at (GetAtt/Ref, also inside Fn::Join), and "*" for a wildcard. */
export function resourceTargets(resource: unknown): string[] {
  if (resource === "*") return ["*"];
  if (Array.isArray(resource)) return resource.flatMap(resourceTargets);
  if (resource && typeof resource === "object") {
    const value = resource as Record<string, unknown>;
    if (Array.isArray(value["Fn::GetAtt"])) return [String(value["Fn::GetAtt"][0])];
    if (typeof value.Ref === "string") return [value.Ref];
    // A join's string parts are ARN fragments (":*" for versions), not resources; a bare "*" part would be.
    if (Array.isArray(value["Fn::Join"])) {
      const parts = (value["Fn::Join"] as unknown[])[1] as unknown[];
      return parts.flatMap((part) =>
        typeof part === "string" ? (part === "*" ? ["*"] : []) : resourceTargets(part),
      );
    }
    return [];
  }
  return typeof resource === "string" ? [resource] : [];
}

/** The logical id of the one resource of `type` whose properties include `props`. */
export function logicalId(template: Template, type: string, props: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  if (ids.length !== 1)
    throw new Error(`expected one ${type} with ${JSON.stringify(props)}, found ${ids.length}`);
  return ids[0]!;
}
