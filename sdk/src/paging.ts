import { unwrap } from "./unwrap.js";

/** One page of a cursor-paged listing, as the API answers them. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

type PageResult<T> = { data?: Page<T>; response: Response };

/**
 * Every item of a cursor-paged listing, fetching pages as the loop goes on. `fetchPage` is called
 * with `undefined` first, then with each `nextCursor` until a page has none. A page may be short or
 * empty while a cursor follows (filters that scan), so only a missing cursor ends the walk.
 *
 * ```ts
 * for await (const run of paginate((cursor) => client.GET("/v1/runs", { params: { query: { cursor } } }))) …
 * ```
 */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<PageResult<T>>,
  { maxPages = Number.POSITIVE_INFINITY }: { maxPages?: number } = {},
): AsyncGenerator<T, void, undefined> {
  for await (const page of pages(fetchPage, { maxPages })) yield* page.items;
}

/** The pages of a cursor-paged listing (see paginate). */
export async function* pages<T>(
  fetchPage: (cursor: string | undefined) => Promise<PageResult<T>>,
  { maxPages = Number.POSITIVE_INFINITY }: { maxPages?: number } = {},
): AsyncGenerator<Page<T>, void, undefined> {
  let cursor: string | undefined;
  for (let count = 0; count < maxPages; count++) {
    const page = await unwrap(fetchPage(cursor));
    yield page;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

/** Collects up to `limit` items of an async iterable (a paginate() walk) into an array. */
export async function take<T>(items: AsyncIterable<T>, limit: number): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
