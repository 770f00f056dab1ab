/**
 * Splits `items`, in order, into batches of at most `maxEntries` items and `maxBytes` bytes in all
 * (the limits of a batch API call: SQS SendMessageBatch, EventBridge PutEvents). An item larger
 * than `maxBytes` goes alone: the caller decides what to do with it.
 */
export function batchesWithin<T>(items: readonly T[], bytesOf: (item: T) => number, maxEntries: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length > 0 && (current.length === maxEntries || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
