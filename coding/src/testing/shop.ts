import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * The small "shop" repository the coding tests share (the API tests in functions/node and the Coding
 * page's browser test): a cart total and a discount in TypeScript, and the diff the scripted model
 * proposes for them.
 */
export const SHOP_SOURCES: Record<"src/cart.ts" | "src/discount.ts", string> = {
  "src/cart.ts": [
    "export interface CartItem {",
    "  sku: string;",
    "  price: number;",
    "  quantity: number;",
    "}",
    "",
    "/** The cart total in cents. */",
    "export function cartTotal(items: CartItem[]): number {",
    "  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);",
    "}",
    "",
  ].join("\n"),
  "src/discount.ts": [
    'import { cartTotal, type CartItem } from "./cart.js";',
    "",
    "export function applyDiscount(items: CartItem[], percent: number): number {",
    "  const total = cartTotal(items);",
    "  return total - Math.round((total * percent) / 100);",
    "}",
    "",
  ].join("\n"),
};

/** A unified diff of src/cart.ts that applies cleanly: the total never goes below zero. */
export const CART_CLAMP_DIFF = [
  "--- a/src/cart.ts",
  "+++ b/src/cart.ts",
  "@@ -7,4 +7,5 @@",
  " /** The cart total in cents. */",
  " export function cartTotal(items: CartItem[]): number {",
  "-  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);",
  "+  // Negative quantities (returns) never lower the total below zero.",
  "+  return Math.max(0, items.reduce((sum, item) => sum + item.price * item.quantity, 0));",
  " }",
  "",
].join("\n");

/** Writes `files` under `dir` and commits them on `main` in a new git repository. */
export async function writeGitRepository(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "initial");
}
