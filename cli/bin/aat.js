#!/usr/bin/env node
// The `aat` command. The CLI is TypeScript run through tsx's loader: there is no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
