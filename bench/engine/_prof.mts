import { buildOurChain, chainPlan } from "./ours.js";

const ours = buildOurChain(chainPlan(100, "static"));
for (let i = 0; i < 300; i++) await ours(`w${i}`);
const t = performance.now();
for (let i = 0; i < 1000; i++) await ours(`r${i}`);
console.log("us/step", ((performance.now() - t) * 1000) / 100000);
