/**
 * How an alert is closed, by a person or a triage run. Its own module so the triage status hook can read
 * it without loading the alert store's record schemas (a serverless worker builds those only for the
 * first triage run it sees).
 */
export const RESOLUTIONS = ["true_positive", "false_positive", "benign", "duplicate", "other"] as const;
