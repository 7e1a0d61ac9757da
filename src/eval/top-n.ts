/**
 * Keeps the n best (score, id) pairs of a stream in O(log n) per item: a binary min-heap whose root is the worst
 * kept pair. "Better" means a higher score, or an equal score and a smaller id, the tie rule used by every
 * ranking in lla (topics, next actions), so results never depend on iteration order.
 */
export class TopN {
  private readonly capacity: number;
  /** heapScores / heapIds: [capacity] the kept pairs, heap-ordered worst first */
  private readonly heapScores: Float64Array;
  private readonly heapIds: Int32Array;
  private size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new Error(`TopN: capacity is ${String(capacity)}, but it must be a whole number >= 0`);
    }
    this.capacity = capacity;
    this.heapScores = new Float64Array(capacity);
    this.heapIds = new Int32Array(capacity);
  }

  /** true when (scoreA, idA) ranks below (scoreB, idB). */
  private static worse(scoreA: number, idA: number, scoreB: number, idB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && idA > idB);
  }

  push(score: number, id: number): void {
    if (this.capacity === 0) return;
    const scores = this.heapScores;
    const ids = this.heapIds;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!TopN.worse(score, id, scores[parent], ids[parent])) break;
        scores[i] = scores[parent];
        ids[i] = ids[parent];
        i = parent;
      }
      scores[i] = score;
      ids[i] = id;
      return;
    }
    if (!TopN.worse(scores[0], ids[0], score, id)) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      let child = left;
      const right = left + 1;
      if (right < this.size && TopN.worse(scores[right], ids[right], scores[left], ids[left])) child = right;
      if (!TopN.worse(scores[child], ids[child], score, id)) break;
      scores[i] = scores[child];
      ids[i] = ids[child];
      i = child;
    }
    scores[i] = score;
    ids[i] = id;
  }

  /** The kept pairs, best first. */
  sorted(): Array<{ id: number; score: number }> {
    const out: Array<{ id: number; score: number }> = [];
    for (let i = 0; i < this.size; i++) out.push({ id: this.heapIds[i], score: this.heapScores[i] });
    out.sort((a, b) => b.score - a.score || a.id - b.id);
    return out;
  }
}
