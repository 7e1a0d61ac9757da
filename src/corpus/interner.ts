/** Maps strings to dense ids in order of first appearance (id 0 is the first string seen). */
export class Interner {
  private readonly index = new Map<string, number>();
  /** strings: [size] the string of each id */
  readonly strings: string[] = [];

  intern(value: string): number {
    let id = this.index.get(value);
    if (id === undefined) {
      id = this.strings.length;
      // `value` is usually a slice of a whole decoded block of the file, and V8 keeps the parent string alive
      // for as long as the slice lives: store a copy, or every block with a new token stays in memory.
      const copy = detach(value);
      this.index.set(copy, id);
      this.strings.push(copy);
    }
    return id;
  }

  get size(): number {
    return this.strings.length;
  }
}

/** a copy of `value` that shares no memory with the string it was sliced from */
function detach(value: string): string {
  // Short strings are copied by V8 anyway; longer ones go through a byte round trip (once per distinct string).
  return value.length < 13 ? value : Buffer.from(value, 'utf8').toString('utf8');
}
