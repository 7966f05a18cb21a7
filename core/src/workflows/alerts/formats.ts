/**
 * The alert formats a webhook source can declare (one mapper each). Its own module so the configuration
 * can name them without loading the OCSF schemas (a serverless worker's start does not need those).
 */
export const ALERT_FORMATS = [
  "generic",
  "alertmanager",
  "guardduty",
  "wazuh",
  "elastic",
  "splunk",
  "falco",
  "suricata",
] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];
