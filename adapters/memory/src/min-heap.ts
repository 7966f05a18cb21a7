/** A binary min-heap ordered by `at`; the queue keeps its timed events (delays, lease ends) here. */
export interface TimedEntry {
  at: number;
  id: string;
  /** The message's state token when the entry was pushed; a changed token makes the entry stale. */
  token: number;
}

export class MinHeap {
  private items: TimedEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): TimedEntry | undefined {
    return this.items[0];
  }

  push(entry: TimedEntry): void {
    const items = this.items;
    items.push(entry);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentItem = items[parent]!;
      if (parentItem.at <= entry.at) break;
      items[index] = parentItem;
      index = parent;
    }
    items[index] = entry;
  }

  pop(): TimedEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    const length = items.length;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && items[right]!.at < items[left]!.at ? right : left;
      if (items[child]!.at >= last.at) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = last;
    return top;
  }

  /** Drops entries the predicate rejects and restores heap order (used to shed stale entries). */
  retain(keep: (entry: TimedEntry) => boolean): void {
    const kept = this.items.filter(keep);
    this.items = [];
    for (const entry of kept) this.push(entry);
  }
}
