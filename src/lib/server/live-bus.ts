/**
 * Live notifications inside the process (a rep's inbox, a manager's board, a flow's counts).
 * The workflow worker runs in a thread of its own (scripts/start.js) and is where hand-offs are
 * assigned, while the browsers' event streams are held by the serving thread, so a plain
 * EventEmitter would never tell them. A BroadcastChannel reaches every thread of the process;
 * listeners in the publishing thread are called directly (a channel does not echo to its sender).
 * A worker in another process (`npm run worker`) is not reached: pages also re-read on a slow timer.
 */
export type LiveListener = (message: unknown) => void;

export interface LiveBus {
  publish(topic: string, message: unknown): void;
  /** Returns the unsubscribe function. */
  subscribe(topic: string, listener: LiveListener): () => void;
  close(): void;
}

export function createLiveBus(name = 'nurture-live'): LiveBus {
  const listeners = new Map<string, Set<LiveListener>>();
  let channel: BroadcastChannel | undefined;

  const deliver = (topic: string, message: unknown) => {
    for (const l of listeners.get(topic) ?? []) {
      try {
        l(message);
      } catch (e) {
        console.error(`[live] listener for ${topic} failed: ${(e as Error).message}`);
      }
    }
  };

  // Opened on first use and unref'd, so a bus nobody uses keeps no thread alive.
  function open() {
    if (!channel) {
      channel = new BroadcastChannel(name);
      channel.onmessage = (ev) => {
        const { topic, message } = (ev as MessageEvent<{ topic: string; message: unknown }>).data;
        deliver(topic, message);
      };
      (channel as unknown as { unref?: () => void }).unref?.();
    }
    return channel;
  }

  return {
    publish(topic, message) {
      deliver(topic, message);
      open().postMessage({ topic, message });
    },
    subscribe(topic, listener) {
      open();
      let set = listeners.get(topic);
      if (!set) listeners.set(topic, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (!set.size) listeners.delete(topic);
      };
    },
    close() {
      channel?.close();
      channel = undefined;
      listeners.clear();
    }
  };
}
