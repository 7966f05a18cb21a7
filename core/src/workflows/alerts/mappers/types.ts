import type { Observable, Resource } from "../ocsf.js";

/** What a format's mapper reads out of one payload item, before identity and grouping are added. */
export interface MappedAlert {
  /** The product's own id for this alert, when it has a stable one (becomes the fingerprint). */
  nativeId?: string;
  /** Rule or finding type the alert fired on (part of the fallback fingerprint). */
  rule: string;
  time: number;
  severity_id: number;
  title: string;
  desc?: string;
  types: string[];
  src_url?: string;
  analytic?: { uid?: string; name?: string };
  resources: Resource[];
  observables: Observable[];
  product: { name: string; vendor_name?: string; version?: string };
  /** The item as received (a batch item carries its envelope's shared fields next to it). */
  raw: unknown;
}

/** One payload (already JSON-parsed) to one or more alerts; throws AlertMappingError naming the field. */
export type AlertMapper = (payload: unknown, receivedAt: number) => MappedAlert[];
