/**
 * The path of a request URL as `new URL(url).pathname` gives it, without building a `URL`.
 *
 * The runtime dispatches every request by its path (API, CloudEvents receiver, /metrics or site), and
 * a `URL` object per request showed up in the ingest profile. `request.url` here comes from
 * @hono/node-server, which already hands over a normalised absolute URL (it runs `new URL(...).href`
 * whenever the target has dot segments or characters outside the plain set), so the path is the text
 * from the first `/` after the authority up to `?` or `#`. A test compares this with `URL.pathname`.
 */
export function requestPath(url: string): string {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme === -1 ? 0 : scheme + 3);
  if (start === -1) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query !== -1) end = query;
  const fragment = url.indexOf("#", start);
  if (fragment !== -1 && fragment < end) end = fragment;
  return url.slice(start, end);
}
