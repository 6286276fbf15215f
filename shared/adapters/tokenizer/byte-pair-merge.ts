import type { RankTable } from './rank-table.js';

/** Pieces up to this many bytes are merged by scanning every pair per merge: fewer steps than a heap's for them. */
const SCAN_UP_TO = 48;

/**
 * js-tiktoken's `bytePairMerge`, counted: start from the piece's single bytes; while some adjacent pair of parts
 * forms a ranked token, merge the pair of lowest rank (the leftmost on a tie); answer how many parts have a rank
 * (js-tiktoken drops the others). Scanning all pairs per merge is quadratic in the piece's length: a word of 16,384
 * `é` (one piece of the split pattern) took 5.8 s with the event loop blocked, and a caller's prompt is estimated
 * (ADR 0085). Longer pieces take the same merges in the same order from a heap — O(n log n).
 */
export function countMergedParts(table: RankTable, piece: Uint8Array, length: number): number {
  if (length === 1) return 1;
  const starts = length <= SCAN_UP_TO ? scanMerge(table, piece, length) : heapMerge(table, piece, length);
  let counted = 0;
  for (let i = 0; i < starts.length - 1; i++) {
    if (table.rank(piece, starts[i] as number, starts[i + 1] as number) >= 0) counted++;
  }
  return counted;
}

/** The parts' start offsets (and the end) after merging by scanning every adjacent pair for each merge. */
function scanMerge(table: RankTable, piece: Uint8Array, length: number): number[] {
  const starts = Array.from({ length: length + 1 }, (_, i) => i);
  while (starts.length > 2) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < starts.length - 2; i++) {
      const rank = table.rank(piece, starts[i] as number, starts[i + 2] as number);
      if (rank >= 0 && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) break;
    starts.splice(best + 1, 1);
  }
  return starts;
}

/**
 * The same merges from a min-heap of candidate pairs keyed by (rank, left offset), the parts a linked list of
 * offsets. A merge only removes a boundary, so a popped pair is still current exactly when its left part is alive
 * and the part after its right one still starts at the pair's end: then its bytes, and its rank, are as pushed.
 * Popping the least current (rank, offset) is what the scan picks: the lowest rank, the leftmost on a tie.
 */
function heapMerge(table: RankTable, piece: Uint8Array, length: number): number[] {
  const next = Int32Array.from({ length: length + 1 }, (_, i) => i + 1);
  const prev = Int32Array.from({ length: length + 1 }, (_, i) => i - 1);
  const alive = new Uint8Array(length + 1).fill(1);
  const heap = new PairHeap(length + 1);
  const consider = (left: number): void => {
    if (left < 0 || left >= length) return;
    const right = next[left] as number;
    if (right >= length) return;
    const end = next[right] as number;
    const rank = table.rank(piece, left, end);
    if (rank >= 0) heap.push(rank, left, end);
  };
  for (let i = 0; i < length - 1; i++) consider(i);
  while (heap.size > 0) {
    const { left, end } = heap.pop();
    const right = next[left] as number;
    if (alive[left] === 0 || right >= length || next[right] !== end) continue;
    alive[right] = 0; // the pair [left, end) becomes one part
    next[left] = end;
    prev[end] = left;
    consider(prev[left] as number);
    consider(left);
  }
  const starts: number[] = [];
  for (let at = 0; at <= length; at = next[at] as number) starts.push(at);
  return starts;
}

/** A binary min-heap of (rank, left, end), ordered by rank then left: the key rank × width + left is exact. */
class PairHeap {
  private keys: number[] = [];
  private ends: number[] = [];

  constructor(private readonly width: number) {}

  get size(): number {
    return this.keys.length;
  }

  push(rank: number, left: number, end: number): void {
    const { keys, ends } = this;
    let i = keys.length;
    const key = rank * this.width + left;
    keys.push(key);
    ends.push(end);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((keys[parent] as number) <= key) break;
      this.move(parent, i);
      i = parent;
    }
    keys[i] = key;
    ends[i] = end;
  }

  pop(): { left: number; end: number } {
    const { keys, ends } = this;
    const top = { left: (keys[0] as number) % this.width, end: ends[0] as number };
    const key = keys.pop() as number;
    const end = ends.pop() as number;
    if (keys.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= keys.length) break;
      if (child + 1 < keys.length && (keys[child + 1] as number) < (keys[child] as number)) child++;
      if ((keys[child] as number) >= key) break;
      this.move(child, i);
      i = child;
    }
    keys[i] = key;
    ends[i] = end;
    return top;
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from] as number;
    this.ends[to] = this.ends[from] as number;
  }
}
