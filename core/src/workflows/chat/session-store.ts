import type { KeyValue } from "../../ports/kv.js";
import { ChatInputError } from "./errors.js";
import {
  type ChatMessage,
  type ChatSession,
  type ContextRef,
  chatMessageSchema,
  chatSessionSchema,
} from "./records.js";

/**
 * Chat sessions in the KeyValue port:
 * - `chat/session/<id>`: the session record (title, owner, context, message count, summary, pending run)
 * - `chat/message/<id>/<seq, 10 digits>`: one message each, so a long chat never rewrites one big value
 * - `chat/index/<owner>/<inverted creation time>/<id>`: the owner's sessions, newest first by key order
 * The session record is updated with compare-and-set, so concurrent writers never lose a message number.
 */
export const chatKeys = {
  session: (id: string) => `chat/session/${id}`,
  messagePrefix: (id: string) => `chat/message/${id}/`,
  message: (id: string, seq: number) => `chat/message/${id}/${String(seq).padStart(10, "0")}`,
  indexPrefix: (owner: string) => `chat/index/${encodeURIComponent(owner)}/`,
  index: (owner: string, createdAt: number, id: string) =>
    `chat/index/${encodeURIComponent(owner)}/${String(MAX_TIME - createdAt).padStart(13, "0")}/${id}`,
};

const MAX_TIME = 9_999_999_999_999;
const CAS_ATTEMPTS = 20;

export interface ChatSessionPage {
  items: ChatSession[];
  nextCursor?: string;
}

export class ChatSessionStore {
  constructor(private readonly kv: KeyValue) {}

  async create(init: { id: string; owner: string; title: string; context: ContextRef[]; now: number }) {
    const session: ChatSession = {
      id: init.id,
      title: init.title,
      owner: init.owner,
      createdAt: init.now,
      updatedAt: init.now,
      context: init.context,
      messageCount: 0,
    };
    // The record first: an index entry never points at nothing for long (listing skips such entries anyway).
    const created = await this.kv.setIfAbsent(chatKeys.session(session.id), session);
    if (!created.ok) throw new Error(`chat session id "${session.id}" is taken`);
    await this.kv.set(chatKeys.index(session.owner, session.createdAt, session.id), { id: session.id });
    return session;
  }

  async get(id: string): Promise<ChatSession | undefined> {
    const entry = await this.kv.get(chatKeys.session(id));
    return entry ? chatSessionSchema.parse(entry.value) : undefined;
  }

  /** The owner's sessions, newest first; `cursor` is nextCursor of the previous page. */
  async list(owner: string, limit: number, cursor?: string): Promise<ChatSessionPage> {
    const items: ChatSession[] = [];
    let kvCursor = cursor === undefined ? undefined : decodeCursor(cursor);
    while (items.length < limit) {
      const page = await this.kv.list<{ id: string }>(chatKeys.indexPrefix(owner), {
        limit: limit - items.length,
        ...(kvCursor !== undefined ? { cursor: kvCursor } : {}),
      });
      const found = await this.kv.getMany(page.entries.map((e) => chatKeys.session(e.value.id)));
      for (const entry of found) if (entry) items.push(chatSessionSchema.parse(entry.value));
      kvCursor = page.cursor;
      if (kvCursor === undefined) break;
    }
    return { items, ...(kvCursor !== undefined ? { nextCursor: encodeCursor(kvCursor) } : {}) };
  }

  /**
   * Read-modify-write of the session with compare-and-set, retried when another writer got there
   * first. `change` returns the new record, or undefined to leave it as it is.
   */
  async update(
    id: string,
    change: (session: ChatSession) => ChatSession | undefined,
  ): Promise<ChatSession | undefined> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await this.kv.get(chatKeys.session(id));
      if (!entry) return undefined;
      const current = chatSessionSchema.parse(entry.value);
      const next = change(current);
      if (next === undefined) return current;
      const written = await this.kv.compareAndSet(chatKeys.session(id), next, entry.version);
      if (written.ok) return next;
    }
    throw new Error(`chat session "${id}" is being changed by too many writers at once; try again`);
  }

  /**
   * Stores a message under the next seq of the session (reserved with compare-and-set first). `change`
   * may alter the session in the same write, or return undefined to store nothing (a guard).
   */
  async append(
    id: string,
    message: Omit<ChatMessage, "seq">,
    change: (session: ChatSession) => ChatSession | undefined = (s) => s,
  ): Promise<{ session: ChatSession; message: ChatMessage } | undefined> {
    let stored: ChatMessage | undefined;
    const session = await this.update(id, (current) => {
      stored = undefined;
      const changed = change(current);
      if (changed === undefined) return undefined;
      stored = { ...message, seq: current.messageCount + 1 };
      return { ...changed, messageCount: stored.seq, updatedAt: Math.max(current.updatedAt, message.at) };
    });
    if (!session || !stored) return undefined;
    await this.kv.set(chatKeys.message(id, stored.seq), stored);
    return { session, message: stored };
  }

  /** Every message of the session, oldest first. */
  async messages(id: string, afterSeq = 0): Promise<ChatMessage[]> {
    const out: ChatMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(chatKeys.messagePrefix(id), {
        limit: 200,
        ...(cursor !== undefined ? { cursor } : {}),
      });
      for (const entry of page.entries) {
        const message = chatMessageSchema.parse(entry.value);
        if (message.seq > afterSeq) out.push(message);
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    return out;
  }

  /** Removes the session from its owner's list first, then its record and messages. */
  async delete(session: ChatSession): Promise<void> {
    await this.kv.delete(chatKeys.index(session.owner, session.createdAt, session.id));
    await this.kv.delete(chatKeys.session(session.id));
    for (;;) {
      const page = await this.kv.list(chatKeys.messagePrefix(session.id), { limit: 200 });
      if (page.entries.length === 0) break;
      for (const entry of page.entries) await this.kv.delete(entry.key);
    }
  }
}

/** Our cursor wraps the KV adapter's opaque one, so its format can change without breaking clients. */
function encodeCursor(kvCursor: string): string {
  return Buffer.from(JSON.stringify({ k: kvCursor }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (parsed !== null && typeof parsed === "object" && typeof (parsed as { k?: unknown }).k === "string") {
      return (parsed as { k: string }).k;
    }
  } catch {
    // reported below
  }
  throw new ChatInputError(
    "cursor is not one this server issued: pass nextCursor from the previous page unchanged",
    "query.cursor",
    400,
  );
}
