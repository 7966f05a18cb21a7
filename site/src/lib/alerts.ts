import { type AatClient, unwrap } from "@aat/sdk";

// The API's OpenAPI document describes the alert routes without schemas (their bodies are
// `unknown` in the SDK), so these are the shapes core/src/api/routes/alerts.ts answers with.
// The calls still go through the SDK client: same auth, same problem+json errors.

export const ALERT_STATUSES = ["new", "triaging", "awaiting_approval", "resolved"] as const;
export const SEVERITIES = ["informational", "low", "medium", "high", "critical"] as const;
export const RESOLUTIONS = ["true_positive", "false_positive", "benign", "duplicate", "other"] as const;

export interface Observable {
  name?: string;
  type?: string;
  value: string;
  [key: string]: unknown;
}

export interface AlertSummary {
  id: string;
  title: string;
  severity: string;
  status: (typeof ALERT_STATUSES)[number];
  assignee?: string;
  resolution?: { kind: string; comment?: string };
  source: string;
  time: string;
  last_seen: string;
  count: number;
  observables: Observable[];
}

export interface AlertDetail extends AlertSummary {
  alert: Record<string, unknown>;
  raw: unknown;
  enrichment: Record<string, unknown>;
  runs: { runId: string; at: string; status: string; planId?: string }[];
  related: AlertSummary[];
  notes: { id: string; at: string; by: string; text: string }[];
  timeline: { at: string; type: string; by?: string; details?: unknown }[];
}

export interface AlertFilters {
  status?: string;
  severity?: string;
  q?: string;
}

// openapi-fetch fills no path parameters the document does not declare, so ids go into the path here.
type UntypedGet = (path: string, init?: unknown) => Promise<{ data?: unknown; response: Response }>;
type UntypedSend = (path: string, init: { body: unknown }) => Promise<{ data?: unknown; response: Response }>;

export async function listAlerts(client: AatClient, filters: AlertFilters): Promise<AlertSummary[]> {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));
  const get = client.api.GET as unknown as UntypedGet;
  const page = (await unwrap(get("/v1/alerts", { params: { query: { ...query, limit: 200 } } }))) as {
    items: AlertSummary[];
  };
  return page.items;
}

export async function getAlert(client: AatClient, id: string): Promise<AlertDetail> {
  const get = client.api.GET as unknown as UntypedGet;
  return (await unwrap(get(`/v1/alerts/${encodeURIComponent(id)}`))) as AlertDetail;
}

export async function updateAlert(
  client: AatClient,
  id: string,
  body: { status?: string; assignee?: string | null; resolution?: { kind: string; comment?: string } },
): Promise<AlertSummary> {
  const patch = client.api.PATCH as unknown as UntypedSend;
  return (await unwrap(patch(`/v1/alerts/${encodeURIComponent(id)}`, { body }))) as AlertSummary;
}

export async function addNote(client: AatClient, id: string, text: string): Promise<void> {
  const post = client.api.POST as unknown as UntypedSend;
  await unwrap(post(`/v1/alerts/${encodeURIComponent(id)}/notes`, { body: { text } }));
}
