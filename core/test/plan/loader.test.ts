import { describe, expect, it } from "vitest";
import {
  formatPlanError,
  loadPlanDefinition,
  loadPlanFile,
  NODE_TYPES,
  PlanLoadFailure,
} from "../../src/index.js";
import { allNodeTypes, fixture, tools } from "./support.js";

function errorsOf(name: string, nodeTypes: { has(type: string): boolean } = allNodeTypes): string[] {
  const result = loadPlanFile(fixture(name), { file: name, nodeTypes, tools });
  if (result.ok) throw new Error(`${name} loaded without errors`);
  return result.errors.map(formatPlanError);
}

describe("loadPlanFile: one error per fixture, exact messages", () => {
  it("reports a YAML syntax error at yaml's position", () => {
    expect(errorsOf("yaml-syntax.yaml")).toEqual([
      'yaml-syntax.yaml:8:1: invalid YAML: Missing closing "quote',
    ]);
  });

  it("points an unknown key at the key, with a did-you-mean", () => {
    expect(errorsOf("unknown-key.yaml")).toEqual([
      'unknown-key.yaml:9:5 steps[0].retries: unknown key "retries" (did you mean "retry"?)',
    ]);
  });

  it("points a missing key at the mapping that lacks it and names the key", () => {
    expect(errorsOf("missing-key.yaml")).toEqual([
      'missing-key.yaml:6:5 steps[0]: missing required key "tool"; add `tool:` here',
    ]);
  });

  it("explains an unknown step type with the types there are", () => {
    expect(errorsOf("bad-step-type.yaml")).toEqual([
      'bad-step-type.yaml:6:11 steps[0].type: unknown step type "tol" (did you mean "tool"?); expected one of tool, agent, branch, parallel, map, approval, wait, set, plan',
    ]);
  });

  it("reports a duplicate step id at the second id", () => {
    expect(errorsOf("duplicate-step-id.yaml")).toEqual([
      'duplicate-step-id.yaml:8:9 steps[1].id: duplicate step id "greet" (first used at steps[0]); step ids must be unique in the whole plan',
    ]);
  });

  it("reports a duplicate YAML key instead of silently keeping the last value", () => {
    expect(errorsOf("duplicate-key.yaml")).toEqual([
      'duplicate-key.yaml:8:5 steps[0].values: duplicate key "values" (first at line 7); a key may appear only once in a mapping, remove one of them',
    ]);
  });

  it("reports an unknown next target (and the step that is then never reached)", () => {
    expect(errorsOf("unknown-next.yaml")).toEqual([
      'unknown-next.yaml:8:11 steps[0].next: unknown step "finsh" (did you mean "finish"?)',
      'unknown-next.yaml:9:5 steps[1]: step "finish" is unreachable: nothing leads to it from "start", where its list of steps starts; point a next, case, default or onError at it, or remove it',
    ]);
  });

  it("reports an unreachable step", () => {
    expect(errorsOf("unreachable-step.yaml")).toEqual([
      'unreachable-step.yaml:9:5 steps[1]: step "orphan" is unreachable: nothing leads to it from "start", where its list of steps starts; point a next, case, default or onError at it, or remove it',
    ]);
  });

  it("names an undeclared cycle at the edge that closes it", () => {
    expect(errorsOf("undeclared-cycle.yaml")).toEqual([
      "undeclared-cycle.yaml:13:14 steps[1].default: steps poll -> check -> poll form a cycle; declare `loop: { max: N }` on one of them",
    ]);
  });

  it("reports bad JSONata inside a template at the templated value", () => {
    expect(errorsOf("bad-template.yaml")).toEqual([
      'bad-template.yaml:10:12 steps[0].with.url: expression "input.ip[" does not parse: Expected "]" before end of expression',
    ]);
  });

  it("reports bad JSONata in a branch `when`", () => {
    expect(errorsOf("bad-branch-when.yaml")).toEqual([
      `bad-branch-when.yaml:8:15 steps[0].cases[0].when: expression "input.severity in ['high', 'critical'" does not parse: Expected "]" before end of expression`,
    ]);
  });

  it("reports a node type without a registered handler", () => {
    const withoutApproval = new Set(NODE_TYPES.filter((t) => t !== "approval"));
    expect(errorsOf("unregistered-node-type.yaml", withoutApproval)).toEqual([
      'unregistered-node-type.yaml:6:11 steps[0].type: no handler is registered for node type "approval"; register one with registerHandler("approval", …) or use another step type',
    ]);
  });

  it("reports an unknown tool with a did-you-mean", () => {
    expect(errorsOf("unknown-tool.yaml")).toEqual([
      'unknown-tool.yaml:7:11 steps[0].tool: unknown tool "threatintel.ipp" (did you mean "threatintel.ip"?); use the name of a registered tool',
    ]);
  });

  it("reports a capability the plan does not declare", () => {
    expect(errorsOf("missing-capability.yaml")).toEqual([
      "missing-capability.yaml:7:11 steps[0].tool: tool http.request needs capability network.egress; add it to the plan's capabilities",
    ]);
  });

  it("reports a cron expression croner cannot read", () => {
    expect(errorsOf("bad-cron.yaml")).toEqual([
      'bad-cron.yaml:6:11 triggers[0].cron: invalid cron expression "61 * * * *": Invalid value for minute: 61; use five fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * MON-FRI"',
    ]);
  });

  it("reports a time zone that is not an IANA zone", () => {
    expect(errorsOf("bad-timezone.yaml")).toEqual([
      'bad-timezone.yaml:7:15 triggers[0].timezone: unknown time zone "Europe/Atlantis"; use an IANA zone name such as "UTC" or "Europe/Berlin"',
    ]);
  });
});

describe("loadPlanFile: many errors in one go", () => {
  it("reports schema errors and the checks that can still run, in document order", () => {
    expect(errorsOf("many-errors.yaml")).toEqual([
      'many-errors.yaml:4:1 colour: unknown key "colour"; allowed here: id, version, workflow, title, description, inputs, schemas, triggers, match, capabilities, steps, outputs',
      `many-errors.yaml:7:11 triggers[0].cron: invalid cron expression "* * *": invalid configuration format ('* * *'), exactly five, six, or seven space separated parts are required; use five fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * MON-FRI"`,
      'many-errors.yaml:8:15 triggers[0].timezone: unknown time zone "Mars/Olympus"; use an IANA zone name such as "UTC" or "Europe/Berlin"',
      'many-errors.yaml:12:11 steps[0].tool: unknown tool "threatintel.ipp" (did you mean "threatintel.ip"?); use the name of a registered tool',
      'many-errors.yaml:14:11 steps[0].with.ip: expression "input.ip[" does not parse: Expected "]" before end of expression',
      "many-errors.yaml:17:11 steps[1].tool: tool http.request needs capability network.egress; add it to the plan's capabilities",
      'many-errors.yaml:18:5 steps[1].nxt: unknown key "nxt" (did you mean "next"?)',
      'many-errors.yaml:22:15 steps[2].cases[0].when: expression "steps.lookup.output.score >" does not parse: Unexpected end of expression',
      'many-errors.yaml:23:15 steps[2].cases[0].next: unknown step "notfy" (did you mean "notify"?)',
      'many-errors.yaml:24:9 steps[3].id: duplicate step id "lookup" (first used at steps[0]); step ids must be unique in the whole plan',
      'many-errors.yaml:28:11 steps[4].type: unknown step type "sleep"; expected one of tool, agent, branch, parallel, map, approval, wait, set, plan',
      'many-errors.yaml:32:13 steps[5].output: schema "Verdict" is not defined; add it under the plan\'s `schemas` or give an inline JSON Schema',
      "many-errors.yaml:35:12 steps[6].retry: retry is not supported on a parallel step; put retry on the steps inside it",
      'many-errors.yaml:38:13 steps[6].branches[0].steps[0]: missing required key "id"; add `id:` here',
    ]);
  });
});

describe("loadPlanFile: valid plans", () => {
  it("loads a valid plan with defaults applied and durations in milliseconds", () => {
    const result = loadPlanFile(fixture("valid.yaml"), {
      file: "valid.yaml",
      nodeTypes: allNodeTypes,
      tools,
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.definition.id).toBe("alerts.triage");
    expect(result.definition.version).toBe(2);
    expect(result.definition.steps[0]).toMatchObject({
      retry: { max: 3, initial: 1000, backoff: "exponential" },
    });
    expect(result.definition.match).toEqual([
      { event: "alert.received", when: "alert.severity in ['high', 'critical']", priority: 0 },
    ]);
  });

  it("accepts agent tool globs that match registered tools and checks their capabilities", () => {
    const text = fixture("valid.yaml").replace("capabilities: [network.egress]", "capabilities: []");
    const result = loadPlanFile(text, { file: "valid.yaml", tools });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      "valid.yaml:22:11 steps[0].tool: tool threatintel.ip needs capability network.egress; add it to the plan's capabilities",
      "valid.yaml:27:13 steps[1].tools[0]: tool threatintel.domain needs capability network.egress; add it to the plan's capabilities",
      "valid.yaml:42:11 steps[4].tool: tool http.request needs capability network.egress; add it to the plan's capabilities",
    ]);
  });

  it("skips tool and node type checks when no catalog is given", () => {
    const result = loadPlanFile(fixture("unknown-tool.yaml"), { file: "unknown-tool.yaml" });
    expect(result.ok).toBe(true);
  });
});

describe("loadPlanFile: other document shapes", () => {
  it("reports an empty file", () => {
    const result = loadPlanFile("", { file: "empty.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      "empty.yaml:1:1: the plan is empty; a plan needs at least id, workflow, title and steps",
    ]);
  });

  it("reports a document that is not a mapping", () => {
    const result = loadPlanFile("- a\n- b\n", { file: "list.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      "list.yaml:1:1: a plan must be a mapping of keys (id, workflow, title, steps, …), got a list of 2 items",
    ]);
  });

  it("reports several YAML documents in one file", () => {
    const result = loadPlanFile("id: a\n---\nid: b\n", { file: "two.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      "two.yaml:2:1: a plan file holds one YAML document; remove the `---` separator or put each plan in its own file",
    ]);
  });

  it("reports missing top-level keys at the document and wrong types at the value", () => {
    const text = "id: Bad Id\nworkflow: alert\ntitle: 3\nsteps: []\ncapabilities: [Net]\n";
    const result = loadPlanFile(text, { file: "p.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      `p.yaml:1:5 id: invalid value "Bad Id": must be lower case letters, digits, '.', '_' or '-', starting with a letter or digit`,
      'p.yaml:2:11 workflow: invalid value "alert" (did you mean "alerts"?); expected one of alerts, analytics, automation, coding, chat',
      "p.yaml:3:8 title: expected a string, got the number 3",
      "p.yaml:4:8 steps: needs at least 1 item, got an empty list",
      'p.yaml:5:16 capabilities[0]: invalid capability "Net": use dotted lower-case names such as network.egress',
    ]);
  });

  it("explains a wait step that needs exactly one of duration or until, and bad durations", () => {
    const text = [
      "id: w",
      "workflow: automation",
      "title: waits",
      "steps:",
      "  - id: pause",
      "    type: wait",
      "  - id: nap",
      "    type: wait",
      "    duration: 5 minutes",
      "",
    ].join("\n");
    const result = loadPlanFile(text, { file: "w.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      "w.yaml:5:5 steps[0]: a wait step needs exactly one of `duration` or `until`",
      'w.yaml:9:15 steps[1].duration: invalid duration "5 minutes": use a number of milliseconds or a string like "500ms", "30s", "5m", "2h", "1d"',
    ]);
  });

  it("reports an unknown trigger type and an inputs schema zod cannot read", () => {
    const text = [
      "id: t",
      "workflow: automation",
      "title: triggers",
      "inputs: { type: object, properties: { n: { type: wat } } }",
      "triggers:",
      "  - type: cronjob",
      "steps:",
      "  - { id: a, type: set, values: {} }",
      "",
    ].join("\n");
    const result = loadPlanFile(text, { file: "t.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      "t.yaml:4:9 inputs: inputs is not a JSON Schema that can be read: Unsupported type: wat; see https://json-schema.org/understanding-json-schema",
      't.yaml:6:11 triggers[0].type: unknown trigger type "cronjob"; expected one of manual, webhook, schedule, event',
    ]);
  });
});

describe("loadPlanFile: readable schema messages", () => {
  it("names a missing type at its mapping, empty values and wrong shapes", () => {
    const text = [
      "id: edge.cases",
      "workflow: automation",
      "title: edges",
      "triggers:",
      '  - cron: "* * * * *"',
      "steps:",
      "  - id: a",
      "    values: {}",
      "  - id: c",
      "    type: tool",
      "    tool:",
      "  - 42",
      "  - id: g",
      "    type: branch",
      '    cases: "nope"',
      "",
    ].join("\n");
    const result = loadPlanFile(text, { file: "e.yaml" });
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      'e.yaml:5:5 triggers[0]: missing required key "type"; expected one of manual, webhook, schedule, event',
      'e.yaml:7:5 steps[0]: missing required key "type"; expected one of tool, agent, branch, parallel, map, approval, wait, set, plan',
      "e.yaml:11:5 steps[1].tool: expected a string, got an empty value",
      "e.yaml:12:5 steps[2]: expected a mapping (key: value), got the number 42",
      'e.yaml:15:12 steps[3].cases: expected a list, got the string "nope"',
    ]);
  });
});

describe("loadPlanDefinition (already parsed objects)", () => {
  it("returns the same errors with paths and unknown positions", () => {
    const result = loadPlanDefinition(
      {
        id: "api.plan",
        workflow: "automation",
        title: "From the API",
        steps: [{ id: "a", type: "set", values: { x: "{% 1 + %}" }, nxt: "b" }],
      },
      { nodeTypes: allNodeTypes },
    );
    expect(result.ok ? [] : result.errors).toEqual([
      {
        file: "",
        line: 0,
        column: 0,
        path: "steps[0].nxt",
        message: 'unknown key "nxt" (did you mean "next"?)',
      },
      {
        file: "",
        line: 0,
        column: 0,
        path: "steps[0].values.x",
        message: 'expression "1 +" does not parse: Unexpected end of expression',
      },
    ]);
    expect(result.ok ? [] : result.errors.map(formatPlanError)).toEqual([
      'steps[0].nxt: unknown key "nxt" (did you mean "next"?)',
      'steps[0].values.x: expression "1 +" does not parse: Unexpected end of expression',
    ]);
  });

  it("accepts a valid object", () => {
    const result = loadPlanDefinition({
      id: "api.plan",
      workflow: "chat",
      title: "ok",
      steps: [{ id: "a", type: "set", values: { x: "{% input.x %}" } }],
    });
    expect(result).toMatchObject({
      ok: true,
      definition: { id: "api.plan", version: 1, triggers: [{ type: "manual" }] },
    });
  });
});

describe("PlanLoadFailure", () => {
  it("carries every error and formats them one per line", () => {
    const result = loadPlanFile(fixture("many-errors.yaml"), { file: "many-errors.yaml", tools });
    if (result.ok) throw new Error("expected errors");
    const failure = new PlanLoadFailure(result.errors);
    expect(failure.errors).toHaveLength(result.errors.length);
    expect(failure.message.split("\n")).toEqual(result.errors.map(formatPlanError));
    expect(failure).toBeInstanceOf(Error);
  });
});
