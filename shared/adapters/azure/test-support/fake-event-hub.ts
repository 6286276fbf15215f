import { MessagingError, type EventData, type EventDataBatch } from '@azure/event-hubs';
import type { UsageEventHubProducer } from '../event-hubs-usage-exporter.js';

/** An event as the hub stored it. */
export interface StoredEvent {
  readonly body: unknown;
  readonly contentType: string | undefined;
  readonly messageId: string | number | undefined;
  readonly properties: Record<string, unknown>;
}

/** Bytes an AMQP message takes besides its body and properties (header, sections, message annotations). */
const MESSAGE_OVERHEAD_BYTES = 64;
/** Bytes an empty AMQP batch envelope takes. */
const BATCH_OVERHEAD_BYTES = 24;

function encodedSize(event: EventData): number {
  const body = event.body instanceof Uint8Array ? event.body.byteLength : Buffer.byteLength(JSON.stringify(event.body));
  const properties = Buffer.byteLength(JSON.stringify(event.properties ?? {}));
  const ids = Buffer.byteLength(`${event.messageId ?? ''}${event.contentType ?? ''}`);
  return body + properties + ids + MESSAGE_OVERHEAD_BYTES;
}

class FakeBatch implements EventDataBatch {
  readonly events: EventData[] = [];
  sizeInBytes = BATCH_OVERHEAD_BYTES;
  constructor(readonly maxSizeInBytes: number) {}
  get count(): number {
    return this.events.length;
  }
  tryAdd(event: EventData): boolean {
    const size = encodedSize(event);
    if (this.sizeInBytes + size > this.maxSizeInBytes) return false;
    this.events.push(event);
    this.sizeInBytes += size;
    return true;
  }
}

/**
 * An Event Hub behind the producer client's own surface (`createBatch`, `sendBatch`, `close`), modelling what
 * the exporter relies on: batches sized by the hub's maximum message size (`tryAdd` refuses what does not fit;
 * sizes approximate the AMQP encoding), a send either stores the whole batch or nothing, failures are the
 * SDK's `MessagingError` with its code and `retryable` flag (after the SDK's own retries), and a closed client
 * refuses every call. Not modelled: partitions, the AMQP link, the SDK's internal retries.
 */
export class FakeEventHub {
  readonly events: StoredEvent[] = [];
  /** Successful `sendBatch` calls. */
  sends = 0;
  /** Failed `sendBatch` calls. */
  failedSends = 0;
  private failures: MessagingError[] = [];
  private closed = false;
  private hold: Promise<void> | undefined;

  constructor(
    private readonly options: {
      readonly fullyQualifiedNamespace?: string;
      readonly eventHubName?: string;
      /** The hub's maximum message (batch) size: 1 MiB on Standard, 256 KiB on Basic. */
      readonly maxSizeInBytes?: number;
    } = {},
  ) {
    this.producer = this.createProducer();
  }

  /** The next `count` sends fail with `code` (`ServerBusyError`, `ServiceUnavailableError`…). */
  failNextSends(count: number, code = 'ServiceUnavailableError'): void {
    for (let i = 0; i < count; i++) {
      const error = new MessagingError(`The service was unable to process the request (${code}).`);
      error.code = code;
      error.retryable = true;
      this.failures.push(error);
    }
  }

  /** Sends wait until the returned function is called (a slow hub). */
  holdSends(): () => void {
    let release!: () => void;
    this.hold = new Promise((resolve) => (release = resolve));
    return () => {
      this.hold = undefined;
      release();
    };
  }

  /** The stored records, parsed from their JSON bodies. */
  records(): { requestId: string }[] {
    return this.events.map(
      (e) => JSON.parse(Buffer.from(e.body as Uint8Array).toString('utf8')) as { requestId: string },
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The producer client the exporter is given. */
  readonly producer: UsageEventHubProducer;

  private createProducer(): UsageEventHubProducer {
    return {
      fullyQualifiedNamespace: this.options.fullyQualifiedNamespace ?? 'gw-test.servicebus.windows.net',
      eventHubName: this.options.eventHubName ?? 'gateway-usage',
      createBatch: async () => {
        this.refuseWhenClosed();
        return new FakeBatch(this.options.maxSizeInBytes ?? 1_048_576);
      },
      sendBatch: async (batch: EventDataBatch | EventData[]) => {
        this.refuseWhenClosed();
        if (this.hold !== undefined) await this.hold;
        const failure = this.failures.shift();
        if (failure !== undefined) {
          this.failedSends++;
          throw failure;
        }
        if (!(batch instanceof FakeBatch)) throw new TypeError('the fake hub takes batches from its own createBatch');
        this.sends++;
        for (const e of batch.events)
          this.events.push({
            body: e.body,
            contentType: e.contentType,
            messageId: e.messageId as string | number | undefined,
            properties: { ...(e.properties ?? {}) },
          });
      },
      close: async () => {
        this.closed = true;
      },
    };
  }

  private refuseWhenClosed(): void {
    if (this.closed) {
      const error = new MessagingError('The underlying AMQP connection is closed.');
      error.code = 'ClientClosedError';
      throw error;
    }
  }
}
