export interface Toast {
  id: number;
  kind: "error" | "success" | "info";
  text: string;
}

let next = 1;
/** The page's toasts; Toaster.svelte renders them. */
export const toasts: Toast[] = $state([]);

export function toast(kind: Toast["kind"], text: string, ttlMs = kind === "error" ? 8000 : 4000): void {
  const id = next++;
  toasts.push({ id, kind, text });
  setTimeout(() => dismiss(id), ttlMs);
}

export function dismiss(id: number): void {
  const index = toasts.findIndex((t) => t.id === id);
  if (index >= 0) toasts.splice(index, 1);
}
