/** The NATS server the integration tests use (JetStream enabled); scripts/services.sh starts one locally. */
export const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
