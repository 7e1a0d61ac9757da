/** Maps strings to dense ids in order of first appearance (id 0 is the first string seen). */
export class Interner {
  private readonly index = new Map<string, number>();
  /** strings: [size] the string of each id */
  readonly strings: string[] = [];

  intern(value: string): number {
    let id = this.index.get(value);
    if (id === undefined) {
      id = this.strings.length;
      this.index.set(value, id);
      this.strings.push(value);
    }
    return id;
  }

  get size(): number {
    return this.strings.length;
  }
}
