import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveBus, type LiveBus } from './live-bus';

describe('live bus', () => {
  let bus: LiveBus | undefined;
  afterEach(() => bus?.close());

  it('calls listeners of the publishing thread once, and only for their topic', () => {
    bus = createLiveBus(`test-${Math.random()}`);
    const got: unknown[] = [];
    const stop = bus.subscribe('inbox:u1', (m) => got.push(m));
    bus.subscribe('inbox:u2', () => got.push('wrong topic'));
    bus.publish('inbox:u1', { type: 'assigned', handoffId: 'h1' });
    stop();
    bus.publish('inbox:u1', { type: 'assigned', handoffId: 'h2' });
    expect(got).toEqual([{ type: 'assigned', handoffId: 'h1' }]);
  });

  it('delivers what another thread publishes (the worker thread assigns, the server streams)', async () => {
    const name = `test-${Math.random()}`;
    bus = createLiveBus(name);
    const received = new Promise((resolve) => bus!.subscribe('board', resolve));
    // The other thread uses a plain BroadcastChannel, as a second bus instance would.
    const w = new Worker(`const c = new BroadcastChannel(${JSON.stringify(name)}); c.postMessage({ topic: 'board', message: { type: 'updated' } }); c.close();`, { eval: true });
    await expect(received).resolves.toEqual({ type: 'updated' });
    await w.terminate();
  });
});
