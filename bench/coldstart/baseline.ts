/** The baseline handler: a minimal Lambda handler bundled exactly like the real ones. */
export const handler = async () => ({ statusCode: 200, body: "ok" });
