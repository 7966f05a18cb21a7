/**
 * Svelte action for boxes that may scroll (long JSON in a `<pre>` with a max height): when the content
 * overflows, the box joins the tab order and is named, so keyboard users can scroll it (axe's
 * scrollable-region-focusable); when it fits, it stays out of the tab order.
 */
export function scrollable(node: HTMLElement, label = "Scrollable content") {
  const check = () => {
    const scrolls = node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1;
    if (scrolls) {
      node.tabIndex = 0;
      node.setAttribute("role", "region");
      node.setAttribute("aria-label", label);
    } else {
      node.removeAttribute("tabindex");
      node.removeAttribute("role");
      node.removeAttribute("aria-label");
    }
  };
  const observer = new ResizeObserver(check);
  observer.observe(node);
  const mutations = new MutationObserver(check);
  mutations.observe(node, { childList: true, characterData: true, subtree: true });
  check();
  return {
    update(next: string) {
      label = next;
      check();
    },
    destroy() {
      observer.disconnect();
      mutations.disconnect();
    },
  };
}
