/**
 * Collects re-emitted bytes of one input chunk; copies, since line views are only valid during the
 * callback. Its buffer is allocated on first use and grows to what a chunk needs (most chunks of a stream
 * are re-emitted as themselves and never come here).
 *
 * @example
 * const out = new OutputBuilder();
 * out.write(line);
 * controller.enqueue(out.take()!);
 */
export class OutputBuilder {
  private buffer: Uint8Array | undefined;
  private length = 0;

  write(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (this.buffer === undefined || needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, (this.buffer?.length ?? 512) * 2));
      if (this.buffer !== undefined) grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  take(): Uint8Array | undefined {
    if (this.length === 0 || this.buffer === undefined) return undefined;
    const bytes = this.buffer.slice(0, this.length);
    this.length = 0;
    if (this.buffer.length > 1024 * 1024) this.buffer = undefined;
    return bytes;
  }
}
