/**
 * Best-effort fan-out of short-lived messages between processes: what one replica publishes on a
 * channel reaches the listeners other replicas have on it at that moment. Nothing is stored or
 * redelivered, so only what is also recorded durably elsewhere may travel here (a chat reply's token
 * deltas: the run's output is the record). Implementations: Redis pub/sub, NATS core subjects.
 */
export interface Broadcast {
  /** Sends `message` to the channel's current listeners, here and in other processes. Never throws. */
  publish(channel: string, message: string): void;
  /**
   * Listens to a channel. Resolves once the backend has registered the listener, so a message
   * published anywhere after that reaches it; call the returned function to stop.
   */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void>;
  close(): Promise<void>;
}
