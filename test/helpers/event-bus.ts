import { startLocalEventBus, type LocalEventBus, type LocalEventBusOptions } from '../../local/engines/event-bus';

export * from '../../local/engines/event-bus';

/**
 * Starts a local bus before the file's tests, points the SDK at it (`AWS_ENDPOINT_URL_EVENTBRIDGE`,
 * read when a handler creates its client on its first invocation) and stops it after.
 */
export function useLocalEventBus(options: LocalEventBusOptions = {}): { readonly bus: LocalEventBus } {
  const holder = {} as { bus: LocalEventBus };
  let saved: string | undefined;
  beforeAll(async () => {
    holder.bus = await startLocalEventBus(options);
    saved = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = holder.bus.endpoint;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    else process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = saved;
    await holder.bus?.stop();
  });
  return holder;
}
