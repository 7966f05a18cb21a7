import { readFileSync } from "node:fs";

/** What scripts/services.sh recorded in `file` (it starts emulators on free ports), else `fallback`. */
function recorded(file: string, fallback: string): string {
  try {
    return readFileSync(file, "utf8").trim() || fallback;
  } catch {
    return fallback;
  }
}

/** Where moto answers: AWS_ENDPOINT_URL, else the URL scripts/services.sh recorded, else its default port. */
export function motoUrl(): string {
  return (
    process.env.AWS_ENDPOINT_URL ??
    recorded(process.env.AAT_MOTO_URL_FILE ?? "/tmp/aat-moto.url", "http://127.0.0.1:5055")
  );
}

/** Where the Pub/Sub emulator answers: PUBSUB_EMULATOR_HOST, else what scripts/services.sh recorded, else 8085. */
export function pubsubEmulatorHost(): string {
  return (
    process.env.PUBSUB_EMULATOR_HOST ??
    recorded(process.env.AAT_PUBSUB_HOST_FILE ?? "/tmp/aat-pubsub.host", "127.0.0.1:8085")
  );
}
