import DOMPurify from "dompurify";
import { marked } from "marked";

/** Model text to safe HTML: marked parses, DOMPurify removes anything executable. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: true });
  return DOMPurify.sanitize(html);
}
