export function fromStoredJson<T>(text: string): T {
  return JSON.parse(text) as T;
}
