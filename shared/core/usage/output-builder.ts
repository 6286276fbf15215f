/**
 * Collects re-emitted bytes of one input chunk; copies, since line views are only valid during the
 * callback. Its buffer is allocated on first use and grows to what a chunk needs (most chunks of a stream
 * are re-emitted as themselves and never come here). Output reserved to its exact size beforehand
 * ({@link OutputBuilder.reserve}) is handed out as the buffer itself, not copied again.
 *
 * @example
 * const out = new OutputBuilder();
 * out.reserve(line.length);
 * out.write(line);
 * controller.enqueue(out.take()!);
 */
export class OutputBuilder {
  private buffer: Uint8Array | undefined;
  private length = 0;

  /**
   * Makes room for `bytes` more, exactly (no doubling): when that is all the output, {@link take} hands out the
   * buffer itself. A write past the room grows it as usual.
   */
  reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (this.buffer === undefined || needed > this.buffer.length) this.grow(needed);
  }

  write(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (this.buffer === undefined || needed > this.buffer.length) {
      this.grow(Math.max(needed, (this.buffer?.length ?? 512) * 2));
    }
    this.buffer!.set(bytes, this.length);
    this.length = needed;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  /** What was written since the last take, as bytes of its own (never written to again), or undefined. */
  take(): Uint8Array | undefined {
    if (this.length === 0 || this.buffer === undefined) return undefined;
    if (this.length === this.buffer.length) {
      // Full to the byte: the buffer itself goes out (no copy), and the next write starts a new one.
      const whole = this.buffer;
      this.buffer = undefined;
      this.length = 0;
      return whole;
    }
    const bytes = this.buffer.slice(0, this.length);
    this.length = 0;
    if (this.buffer.length > 1024 * 1024) this.buffer = undefined;
    return bytes;
  }

  private grow(size: number): void {
    const grown = new Uint8Array(size);
    if (this.buffer !== undefined) grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
