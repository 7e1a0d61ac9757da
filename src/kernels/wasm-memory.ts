/**
 * A small allocator over the WebAssembly linear memory, owned by the main thread (workers never allocate).
 * First-fit over a free list with coalescing, bump allocation above it, `memory.grow` when the top passes the
 * end. Blocks are 16-byte aligned so SIMD loads in the kernels never straddle odd boundaries.
 *
 * Views: a shared memory's buffer never detaches when it grows (old views keep their extent), so arrays handed
 * out by `alloc*` stay valid and the kernels use them in place. A plain (non-shared) memory detaches every view
 * on growth, so on that path `alloc*` returns ordinary arrays and everything is copied per call; internal views
 * are re-created from `memory.buffer` at each use for the same reason.
 */

const PAGE_BYTES = 65536;
const ALIGN = 16;

export type KernelArray = Int32Array | Uint32Array | Float32Array | Float64Array;
type ArrayConstructor =
  Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;

interface FreeBlock {
  start: number;
  bytes: number;
}

export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private readonly maximumBytes: number;
  private top: number;
  /** free: blocks below `top`, sorted by start, never adjacent (coalesced). */
  private readonly free: FreeBlock[] = [];
  /** sizes: bytes of each live block by its start address. */
  private readonly sizes = new Map<number, number>();
  /** arrays handed out by alloc* (shared memory only), so calls can recognise them and skip the copy. */
  private readonly owned = new WeakMap<KernelArray, number>();
  /** frees a handed-out array's block once the array is garbage collected. */
  private readonly collector = new FinalizationRegistry<number>((start) => this.release(start));

  constructor(memory: WebAssembly.Memory, shared: boolean, heapBase: number, maximumPages: number) {
    this.memory = memory;
    this.shared = shared;
    this.maximumBytes = maximumPages * PAGE_BYTES;
    this.top = alignUp(heapBase);
  }

  /** Reserve `bytes` (zero-filled), growing the memory when needed; returns the byte address. */
  allocate(bytes: number, zeroed = true): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new Error(
        `WASM kernel: cannot allocate ${bytes} bytes (not a byte count): this is a bug in lla; please report it`,
      );
    }
    const size = Math.max(ALIGN, alignUp(bytes));
    let start = -1;
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.bytes < size) continue;
      start = block.start;
      if (block.bytes === size) this.free.splice(i, 1);
      else {
        block.start += size;
        block.bytes -= size;
      }
      break;
    }
    if (start < 0) {
      start = this.top;
      const end = start + size;
      if (end > this.maximumBytes) {
        throw new Error(
          `WASM kernel: cannot allocate ${bytes} bytes: the linear memory would exceed its maximum of ` +
            `${this.maximumBytes} bytes; use a smaller corpus or topic count, or the native backend (LLA_BACKEND=native)`,
        );
      }
      const have = this.memory.buffer.byteLength;
      if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
      this.top = end;
    }
    this.sizes.set(start, size);
    if (zeroed) new Uint8Array(this.memory.buffer, start, size).fill(0);
    return start;
  }

  /** Return a block to the free list (coalescing with its neighbours; lowering `top` when it is the last). */
  release(start: number): void {
    const size = this.sizes.get(start);
    if (size === undefined) return;
    this.sizes.delete(start);
    let index = 0;
    while (index < this.free.length && this.free[index].start < start) index++;
    const block: FreeBlock = { start, bytes: size };
    this.free.splice(index, 0, block);
    const next = this.free[index + 1];
    if (next !== undefined && block.start + block.bytes === next.start) {
      block.bytes += next.bytes;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous !== undefined && previous.start + previous.bytes === block.start) {
      previous.bytes += block.bytes;
      this.free.splice(index, 1);
    }
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last.start + last.bytes === this.top) {
      this.top = last.start;
      this.free.pop();
    }
  }

  /** A fresh view of [start, start + length) elements (valid until the next growth on a plain memory). */
  view<T extends KernelArray>(
    kind: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T,
    start: number,
    length: number,
  ): T {
    return new kind(this.memory.buffer, start, length);
  }

  /** alloc* of the Kernel: a view into linear memory (shared) or an ordinary array (plain memory). */
  allocArray<T extends KernelArray>(
    kind: ArrayConstructor & (new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T),
    length: number,
  ): T {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new Error(`WASM kernel: alloc length must be a non-negative integer, got ${length}`);
    }
    if (!this.shared) return new (kind as unknown as new (length: number) => T)(length);
    const start = this.allocate(length * kind.BYTES_PER_ELEMENT);
    const array = this.view(kind, start, length);
    this.owned.set(array, start);
    this.collector.register(array, start);
    return array;
  }

  /** The address of an array handed out by allocArray (which the kernels can use in place), else undefined. */
  addressOf(array: KernelArray): number | undefined {
    return this.owned.get(array);
  }

  /** Bytes between the heap base and the top (for tests and diagnostics). */
  get usedBytes(): number {
    let freeBytes = 0;
    for (const block of this.free) freeBytes += block.bytes;
    return this.top - freeBytes;
  }
}

function alignUp(value: number): number {
  return Math.ceil(value / ALIGN) * ALIGN;
}

/**
 * The arrays of one kernel call: in-place addresses for allocated arrays, temporary copies for the rest
 * (copied in before the call, copied back after it for outputs), all temporaries released at the end.
 */
export class CallScope {
  private readonly temporaries: number[] = [];
  private readonly copyBack: Array<{ array: KernelArray; start: number }> = [];

  constructor(private readonly linear: LinearMemory) {}

  /** Address of `array` for the kernel; `output` arrays are written back after the call. */
  bind(array: KernelArray, output = false): number {
    const inPlace = this.linear.addressOf(array);
    if (inPlace !== undefined) return inPlace;
    const start = this.scratch(array.byteLength);
    if (!output || array.length > 0) {
      const kind = array.constructor as new (
        buffer: ArrayBufferLike,
        byteOffset: number,
        length: number,
      ) => KernelArray;
      (this.linear.view(kind, start, array.length) as Int32Array).set(array as Int32Array);
    }
    if (output) this.copyBack.push({ array, start });
    return start;
  }

  /** Temporary bytes released with the scope: zero-filled unless the kernel overwrites them all (`zeroed` false). */
  scratch(bytes: number, zeroed = true): number {
    const start = this.linear.allocate(bytes, zeroed);
    this.temporaries.push(start);
    return start;
  }

  /** Copy outputs back into the caller's arrays (after the kernel finished). */
  finish(): void {
    for (const { array, start } of this.copyBack) {
      const kind = array.constructor as new (
        buffer: ArrayBufferLike,
        byteOffset: number,
        length: number,
      ) => KernelArray;
      (array as Int32Array).set(this.linear.view(kind, start, array.length) as Int32Array);
    }
    this.copyBack.length = 0;
  }

  release(): void {
    for (const start of this.temporaries) this.linear.release(start);
    this.temporaries.length = 0;
  }
}

/** Runs `body` with a fresh CallScope over `linear`, releasing its temporaries however the body ends. */
export function withScope<T>(linear: LinearMemory, body: (scope: CallScope) => T): T {
  const scope = new CallScope(linear);
  try {
    return body(scope);
  } finally {
    scope.release();
  }
}
