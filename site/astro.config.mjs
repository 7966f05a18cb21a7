import svelte from "@astrojs/svelte";
import { defineConfig } from "astro/config";

// Static output only: the API base URL and auth mode come from /config.json at load time, so one
// build deploys to any static host or to the node runtime unchanged.
export default defineConfig({
  output: "static",
  integrations: [svelte()],
  build: { format: "directory" },
  devToolbar: { enabled: false },
});
