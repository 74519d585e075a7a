/**
 * Minimal read-only HDF5 reader over random access: superblock v0–v3, object headers v1/v2 with
 * continuations, compact attributes (fixed and variable-length strings via the global heap,
 * numbers), old-style (symbol table) and compact new-style groups, dataset shapes and types.
 * Everything is bounded: no structure is trusted to be small, and cycles are cut.
 */

export interface RandomAccess {
  size: number | undefined;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export class H5Error extends Error {
  constructor(
    message: string,
    readonly code = "corrupt",
  ) {
    super(message);
    this.name = "H5Error";
  }
}

export interface Message {
  type: number;
  flags: number;
  data: Uint8Array;
}

export type AttrValue = string | number | bigint | boolean | null | Array<string | number | bigint | null>;

export interface DType {
  cls: number;
  size: number;
  name: string;
  signed?: boolean;
  vlenString?: boolean;
  base?: DType;
}

export interface ObjectInfo {
  addr: number;
  isGroup: boolean;
  isDataset: boolean;
  shape: number[] | null;
  dtype: string | null;
  attrs: Map<string, AttrValue>;
  denseAttributes: boolean;
}

const MAX_MESSAGES = 10_000;
const MAX_HEADER_BYTES = 16 << 20;
const MAX_HEAP_BYTES = 64 << 20;
const MAX_ATTR_ELEMENTS = 100_000;
const MAX_TOTAL_READ = 512 << 20;
const UNDEF = -1;

export class Hdf5Reader {
  O = 8;
  L = 8;
  base = 0;
  rootAddr = UNDEF;
  superblockVersion = 0;
  private heapCache = new Map<number, Uint8Array>();
  private heapBytes = 0;
  private headerCache = new Map<number, Message[]>();
  private reads = 0;
  private bytesRead = 0;

  constructor(private readonly ra: RandomAccess) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (++this.reads > 200_000) throw new H5Error("too many reads; structure is absurd", "limit");
    this.bytesRead += length;
    if (this.bytesRead > MAX_TOTAL_READ) throw new H5Error("metadata reads exceed 512 MiB; structure is absurd", "limit");
    if (offset < 0 || length < 0 || !Number.isSafeInteger(offset + length)) throw new H5Error(`bad address ${offset}`);
    if (this.ra.size !== undefined && offset + length > this.ra.size)
      throw new H5Error(`read at ${offset}+${length} past end of file (${this.ra.size})`, "truncated");
    const b = await this.ra.read(offset, length);
    if (b.length < length) throw new H5Error(`short read at ${offset}`, "truncated");
    return b.length === length ? b : b.subarray(0, length);
  }

  private num(b: Uint8Array, p: number, size: number): number {
    let allOnes = true;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) {
      const x = b[p + i]!;
      if (x !== 0xff) allOnes = false;
      v = v * 256 + x;
    }
    return allOnes ? UNDEF : v;
  }

  addr(b: Uint8Array, p: number): number {
    const v = this.num(b, p, this.O);
    return v === UNDEF ? UNDEF : v + this.base;
  }

  len(b: Uint8Array, p: number): number {
    return this.num(b, p, this.L);
  }

  async open(sbOffset: number): Promise<void> {
    const avail = this.ra.size !== undefined ? Math.min(128, this.ra.size - sbOffset) : 128;
    const sb = await this.read(sbOffset, Math.max(avail, 16));
    const version = sb[8]!;
    this.superblockVersion = version;
    if (version === 0 || version === 1) {
      this.O = sb[13]!;
      this.L = sb[14]!;
      if (![2, 4, 8].includes(this.O) || ![2, 4, 8].includes(this.L)) throw new H5Error("bad offset/length sizes in superblock");
      let p = version === 1 ? 28 : 24;
      this.base = this.num(sb, p, this.O);
      if (this.base === UNDEF) this.base = 0;
      p += this.O * 4;
      // root group symbol table entry: link name offset, object header address, cache type, ...
      this.rootAddr = this.addr(sb, p + this.O);
    } else if (version === 2 || version === 3) {
      this.O = sb[9]!;
      this.L = sb[10]!;
      if (![2, 4, 8].includes(this.O) || ![2, 4, 8].includes(this.L)) throw new H5Error("bad offset/length sizes in superblock");
      this.base = this.num(sb, 12, this.O);
      if (this.base === UNDEF) this.base = 0;
      this.rootAddr = this.addr(sb, 12 + this.O * 3);
    } else {
      throw new H5Error(`unsupported superblock version ${version}`, "unsupported");
    }
    if (this.rootAddr === UNDEF) throw new H5Error("no root group");
  }

  async messages(addr: number): Promise<Message[]> {
    const cached = this.headerCache.get(addr);
    if (cached) return cached;
    const out: Message[] = [];
    let total = 0;
    const first = await this.read(addr, 16);
    const blocks: Array<[number, number, boolean]> = [];
    let v2 = false;
    let creationOrder = false;
    if (first[0] === 0x4f && first[1] === 0x48 && first[2] === 0x44 && first[3] === 0x52) {
      v2 = true;
      const flags = first[5]!;
      let p = 6;
      if (flags & 0x20) p += 16;
      if (flags & 0x10) p += 4;
      const sizeBytes = 1 << (flags & 3);
      const head = await this.read(addr, p + sizeBytes);
      const chunk = this.num(head, p, sizeBytes);
      creationOrder = (flags & 0x04) !== 0;
      blocks.push([addr + p + sizeBytes, chunk, true]);
    } else if (first[0] === 1) {
      const size = (first[8]! | (first[9]! << 8) | (first[10]! << 16)) + first[11]! * 0x1000000;
      blocks.push([addr + 16, size, false]);
    } else {
      throw new H5Error(`bad object header at ${addr}`);
    }
    const seen = new Set<number>();
    while (blocks.length) {
      const [start, size, isFirst] = blocks.shift()!;
      if (seen.has(start) || seen.size > 64) continue;
      seen.add(start);
      total += size;
      if (size > MAX_HEADER_BYTES || total > MAX_HEADER_BYTES) throw new H5Error("object header is absurdly large", "limit");
      const block = await this.read(start, size);
      let p = 0;
      let end = size;
      if (v2) {
        if (!isFirst) {
          if (!(block[0] === 0x4f && block[1] === 0x43 && block[2] === 0x48 && block[3] === 0x4b))
            throw new H5Error("bad continuation block");
          p = 4;
          // a continuation block's length covers its signature and checksum; chunk #0's size is its messages only
          end = size - 4;
        }
        const hdr = creationOrder ? 6 : 4;
        while (p + hdr <= end) {
          const type = block[p]!;
          const msize = block[p + 1]! | (block[p + 2]! << 8);
          const mflags = block[p + 3]!;
          p += hdr;
          if (p + msize > end) break;
          this.collect(out, type, mflags, block.subarray(p, p + msize), blocks);
          p += msize;
        }
      } else {
        while (p + 8 <= end) {
          const type = block[p]! | (block[p + 1]! << 8);
          const msize = block[p + 2]! | (block[p + 3]! << 8);
          const mflags = block[p + 4]!;
          p += 8;
          if (p + msize > end) throw new H5Error("object header message overruns its block");
          this.collect(out, type, mflags, block.subarray(p, p + msize), blocks);
          p += msize;
        }
      }
      if (out.length > MAX_MESSAGES) throw new H5Error("too many object header messages", "limit");
    }
    if (this.headerCache.size < 10_000 && total < 64 * 1024) this.headerCache.set(addr, out);
    return out;
  }

  private collect(out: Message[], type: number, flags: number, data: Uint8Array, blocks: Array<[number, number, boolean]>): void {
    if (type === 0x10) {
      const a = this.addr(data, 0);
      const l = this.len(data, this.O);
      if (a !== UNDEF) blocks.push([a, l, false]);
      return;
    }
    if (type === 0) return;
    out.push({ type, flags, data: data.slice() });
  }

  dtype(d: Uint8Array): DType {
    const cls = d[0]! & 0x0f;
    const bits = d[1]! | (d[2]! << 8) | (d[3]! << 16);
    const size = (d[4]! | (d[5]! << 8) | (d[6]! << 16)) + d[7]! * 0x1000000;
    switch (cls) {
      case 0:
        return { cls, size, signed: (bits & 8) !== 0, name: `${bits & 8 ? "int" : "uint"}${size * 8}` };
      case 1:
        return { cls, size, name: `float${size * 8}` };
      case 3:
        return { cls, size, name: `string${size}` };
      case 8: {
        const base = d.length > 8 ? this.dtype(d.subarray(8)) : undefined;
        return { cls, size, name: `enum(${base?.name ?? "?"})`, base };
      }
      case 9: {
        const isString = (bits & 0xf) === 1;
        return { cls, size, vlenString: isString, name: isString ? "vlen-string" : "vlen" };
      }
      default:
        return {
          cls,
          size,
          name:
            ["fixed", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "vlen", "array"][cls] ??
            `class${cls}`,
        };
    }
  }

  dataspace(d: Uint8Array): number[] | null {
    const version = d[0]!;
    const rank = d[1]!;
    if (rank > 32) throw new H5Error("dataspace rank is absurd");
    let p: number;
    if (version === 1) p = 8;
    else if (version === 2) {
      if (d[3] === 2) return null;
      p = 4;
    } else throw new H5Error(`dataspace version ${version}`);
    const dims: number[] = [];
    for (let i = 0; i < rank; i++) dims.push(this.len(d, p + i * this.L));
    return dims;
  }

  async attribute(d: Uint8Array): Promise<[string, AttrValue]> {
    const version = d[0]!;
    const nameSize = d[2]! | (d[3]! << 8);
    const dtSize = d[4]! | (d[5]! << 8);
    const dsSize = d[6]! | (d[7]! << 8);
    const pad = (n: number) => (version === 1 ? (n + 7) & ~7 : n);
    let p = version === 3 ? 9 : 8;
    if (p + pad(nameSize) + pad(dtSize) + pad(dsSize) > d.length) throw new H5Error("attribute message is truncated");
    let name = new TextDecoder().decode(d.subarray(p, p + nameSize));
    if (name.endsWith("\0")) name = name.slice(0, name.indexOf("\0"));
    p += pad(nameSize);
    const dt = this.dtype(d.subarray(p, p + dtSize));
    p += pad(dtSize);
    const dims = this.dataspace(d.subarray(p, p + dsSize));
    p += pad(dsSize);
    const data = d.subarray(p);
    return [name, await this.decodeValue(dt, dims, data)];
  }

  private async decodeValue(dt: DType, dims: number[] | null, data: Uint8Array): Promise<AttrValue> {
    if (dims === null) return null;
    const n = dims.reduce((a, b) => a * b, 1);
    if (n > MAX_ATTR_ELEMENTS) return null;
    const scalar = dims.length === 0;
    const vals: Array<string | number | bigint | null> = [];
    if (dt.cls === 3) {
      for (let i = 0; i < n && (i + 1) * dt.size <= data.length; i++) {
        const raw = data.subarray(i * dt.size, (i + 1) * dt.size);
        const z = raw.indexOf(0);
        vals.push(new TextDecoder().decode(z >= 0 ? raw.subarray(0, z) : raw).trimEnd());
      }
    } else if (dt.cls === 9 && dt.vlenString) {
      const stride = 4 + this.O + 4;
      for (let i = 0; i < n && (i + 1) * stride <= data.length; i++) {
        const q = i * stride;
        const length = (data[q]! | (data[q + 1]! << 8) | (data[q + 2]! << 16)) + data[q + 3]! * 0x1000000;
        const coll = this.addr(data, q + 4);
        const index =
          (data[q + 4 + this.O]! | (data[q + 5 + this.O]! << 8) | (data[q + 6 + this.O]! << 16)) + data[q + 7 + this.O]! * 0x1000000;
        vals.push(coll === UNDEF || length === 0 ? "" : await this.globalHeapString(coll, index, length));
      }
    } else if (dt.cls === 0 || dt.cls === 1 || (dt.cls === 8 && dt.base)) {
      const t = dt.cls === 8 ? dt.base! : dt;
      const dv = new DataView(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < Math.min(n, 64) && (i + 1) * t.size <= data.length; i++) {
        const o = i * t.size;
        if (t.cls === 1) vals.push(t.size === 8 ? dv.getFloat64(o, true) : t.size === 4 ? dv.getFloat32(o, true) : null);
        else if (t.size === 1) vals.push(t.signed ? dv.getInt8(o) : dv.getUint8(o));
        else if (t.size === 2) vals.push(t.signed ? dv.getInt16(o, true) : dv.getUint16(o, true));
        else if (t.size === 4) vals.push(t.signed ? dv.getInt32(o, true) : dv.getUint32(o, true));
        else if (t.size === 8) {
          const v = t.signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true);
          vals.push(v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v);
        } else vals.push(null);
      }
    } else {
      return null;
    }
    return scalar ? (vals[0] ?? null) : vals;
  }

  private async globalHeapString(coll: number, index: number, length: number): Promise<string> {
    let heap = this.heapCache.get(coll);
    if (!heap) {
      const head = await this.read(coll, 8 + this.L);
      if (head[0] !== 0x47 || head[1] !== 0x43 || head[2] !== 0x4f || head[3] !== 0x4c) throw new H5Error(`bad global heap at ${coll}`);
      const size = this.len(head, 8);
      if (size > MAX_HEAP_BYTES || this.heapBytes + size > 4 * MAX_HEAP_BYTES)
        throw new H5Error("global heap collection is absurdly large", "limit");
      heap = await this.read(coll, size);
      this.heapBytes += size;
      this.heapCache.set(coll, heap);
    }
    let p = 8 + this.L;
    while (p + 8 + this.L <= heap.length) {
      const idx = heap[p]! | (heap[p + 1]! << 8);
      const size = this.len(heap, p + 8);
      const dataAt = p + 8 + this.L;
      if (idx === 0) break;
      if (idx === index) {
        if (dataAt + size > heap.length) throw new H5Error("global heap object overruns its collection");
        return new TextDecoder().decode(heap.subarray(dataAt, dataAt + Math.min(size, length)));
      }
      p = dataAt + ((size + 7) & ~7);
    }
    throw new H5Error(`global heap object ${index} not found`);
  }

  async info(addr: number): Promise<ObjectInfo> {
    const msgs = await this.messages(addr);
    const info: ObjectInfo = { addr, isGroup: false, isDataset: false, shape: null, dtype: null, attrs: new Map(), denseAttributes: false };
    for (const m of msgs) {
      switch (m.type) {
        case 0x01:
          info.shape = this.dataspace(m.data);
          break;
        case 0x03:
          if (!(m.flags & 2)) info.dtype = this.dtype(m.data).name;
          break;
        case 0x08:
          info.isDataset = true;
          break;
        case 0x11:
        case 0x06:
        case 0x02:
          info.isGroup = true;
          break;
        case 0x15:
          info.denseAttributes = true;
          for (const [k, v] of await this.denseAttributes(m.data)) if (info.attrs.size < 1000) info.attrs.set(k, v);
          break;
        case 0x0c:
          if (info.attrs.size < 1000) {
            const [k, v] = await this.attribute(m.data);
            info.attrs.set(k, v);
          }
          break;
      }
    }
    return info;
  }

  /**
   * Attributes kept in dense storage (the Attribute Info message: a fractal heap of attribute
   * messages indexed by a version-2 B-tree), which HDF5 uses for large or numerous attributes.
   */
  async denseAttributes(d: Uint8Array): Promise<Map<string, AttrValue>> {
    const out = new Map<string, AttrValue>();
    let p = 2;
    if (d[1]! & 1) p += 2;
    const heapAddr = this.addr(d, p);
    const nameIndex = this.addr(d, p + this.O);
    if (heapAddr === UNDEF || nameIndex === UNDEF) return out;
    const heap = await FractalHeap.open(this, heapAddr);
    for (const rec of await btree2Records(this, nameIndex, 1000)) {
      const obj = await heap.object(rec.subarray(0, heap.idLength));
      const [k, v] = await this.attribute(obj);
      out.set(k, v);
    }
    return out;
  }

  /** Unsigned little-endian number of `size` bytes (no undefined-address handling). */
  uint(b: Uint8Array, p: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + b[p + i]!;
    return v;
  }

  /** Hard-linked children of a group (compact, symbol-table or dense storage); `dense` is set when they came from a fractal heap. */
  async children(addr: number, limit = 100_000): Promise<{ links: Array<{ name: string; addr: number }>; dense: boolean }> {
    const msgs = await this.messages(addr);
    const links: Array<{ name: string; addr: number }> = [];
    let dense = false;
    for (const m of msgs) {
      if (m.type === 0x11) {
        const btree = this.addr(m.data, 0);
        const heapAddr = this.addr(m.data, this.O);
        await this.symbolTable(btree, heapAddr, links, limit);
      } else if (m.type === 0x06) {
        const link = this.linkMessage(m.data);
        if (link && links.length < limit) links.push(link);
      } else if (m.type === 0x02) {
        // Link Info: links kept in a fractal heap, indexed by a v2 B-tree of name hashes
        const d = m.data;
        const p = 2 + (d[1]! & 1 ? 8 : 0);
        const heapAddr = this.addr(d, p);
        const index = this.addr(d, p + this.O);
        if (heapAddr !== UNDEF && index !== UNDEF) {
          dense = true;
          const heap = await FractalHeap.open(this, heapAddr);
          for (const rec of await btree2Records(this, index, limit - links.length)) {
            const link = this.linkMessage(await heap.object(rec.subarray(4, 4 + heap.idLength)));
            if (link && links.length < limit) links.push(link);
          }
        }
      }
    }
    return { links, dense };
  }

  private linkMessage(d: Uint8Array): { name: string; addr: number } | null {
    const flags = d[1]!;
    let p = 2;
    let linkType = 0;
    if (flags & 0x8) linkType = d[p++]!;
    if (flags & 0x4) p += 8;
    if (flags & 0x10) p++;
    const lenSize = 1 << (flags & 3);
    const nameLen = this.num(d, p, lenSize);
    p += lenSize;
    const name = new TextDecoder().decode(d.subarray(p, p + nameLen));
    p += nameLen;
    if (linkType !== 0) return null;
    return { name, addr: this.addr(d, p) };
  }

  private async symbolTable(btree: number, heapAddr: number, out: Array<{ name: string; addr: number }>, limit: number): Promise<void> {
    const heapHead = await this.read(heapAddr, 8 + this.L * 2 + this.O);
    if (heapHead[0] !== 0x48 || heapHead[1] !== 0x45 || heapHead[2] !== 0x41 || heapHead[3] !== 0x50) throw new H5Error("bad local heap");
    const segSize = this.len(heapHead, 8);
    const segAddr = this.addr(heapHead, 8 + this.L * 2);
    if (segSize > MAX_HEAP_BYTES) throw new H5Error("local heap is absurdly large", "limit");
    const names = await this.read(segAddr, segSize);
    const nameAt = (off: number) => {
      const end = names.indexOf(0, off);
      return new TextDecoder().decode(names.subarray(off, end < 0 ? names.length : end));
    };
    const visited = new Set<number>();
    const queue = [btree];
    while (queue.length && out.length < limit) {
      const node = queue.shift()!;
      if (node === UNDEF || visited.has(node) || visited.size > 100_000) continue;
      visited.add(node);
      const h = await this.read(node, 8 + this.O * 2);
      if (h[0] !== 0x54 || h[1] !== 0x52 || h[2] !== 0x45 || h[3] !== 0x45) throw new H5Error("bad group B-tree node");
      const level = h[5]!;
      const used = h[6]! | (h[7]! << 8);
      const body = await this.read(node + 8 + this.O * 2, (used + 1) * this.L + used * this.O);
      for (let i = 0; i < used; i++) {
        const child = this.addr(body, this.L + i * (this.L + this.O));
        if (level > 0) {
          queue.push(child);
          continue;
        }
        const sn = await this.read(child, 8);
        if (sn[0] !== 0x53 || sn[1] !== 0x4e || sn[2] !== 0x4f || sn[3] !== 0x44) throw new H5Error("bad symbol table node");
        const count = sn[6]! | (sn[7]! << 8);
        const entry = this.O * 2 + 24;
        const entries = await this.read(child + 8, count * entry);
        for (let e = 0; e < count && out.length < limit; e++) {
          const q = e * entry;
          out.push({ name: nameAt(this.len(entries, q)), addr: this.addr(entries, q + this.O) });
        }
      }
    }
  }
}

/** Bytes needed to store n (HDF5's H5VM_limit_enc_size). */
function encSize(n: number): number {
  return n <= 0 ? 1 : Math.floor(Math.floor(Math.log2(n)) / 8) + 1;
}

/** Every record of a version-2 B-tree (records are opaque bytes of the tree's record size). */
export async function btree2Records(h5: Hdf5Reader, addr: number, limit: number): Promise<Uint8Array[]> {
  const O = h5.O;
  const hd = await h5.read(addr, 16 + O + 2 + h5.L + 4);
  if (hd[0] !== 0x42 || hd[1] !== 0x54 || hd[2] !== 0x48 || hd[3] !== 0x44) throw new H5Error("bad v2 B-tree header");
  const nodeSize = h5.uint(hd, 6, 4);
  const recSize = h5.uint(hd, 10, 2);
  const depth = h5.uint(hd, 12, 2);
  const root = h5.addr(hd, 16);
  const rootCount = h5.uint(hd, 16 + O, 2);
  if (recSize === 0 || nodeSize < 16 || nodeSize > 1 << 24 || depth > 16) throw new H5Error("v2 B-tree header is absurd");
  // node geometry per level, as HDF5 derives it (H5B2__hdr_init)
  const max = [Math.floor((nodeSize - 10) / recSize)];
  const cum = [max[0]!];
  const cumSize = [0];
  const nrecSize = encSize(max[0]!);
  const ptrSize = (d: number) => O + nrecSize + (d > 1 ? cumSize[d - 1]! : 0);
  for (let d = 1; d <= depth; d++) {
    max[d] = Math.floor((nodeSize - 10 - ptrSize(d)) / (recSize + ptrSize(d)));
    cum[d] = (max[d]! + 1) * cum[d - 1]! + max[d]!;
    cumSize[d] = encSize(cum[d]!);
  }
  const out: Uint8Array[] = [];
  const visit = async (node: number, count: number, d: number): Promise<void> => {
    if (out.length >= limit) return;
    if (count > (max[d] ?? 0)) throw new H5Error("v2 B-tree node holds more records than fit");
    const size = 6 + count * recSize + (d > 0 ? (count + 1) * ptrSize(d) : 0);
    const b = await h5.read(node, size);
    const leaf = d === 0;
    const sig = leaf ? [0x42, 0x54, 0x4c, 0x46] : [0x42, 0x54, 0x49, 0x4e];
    if (!sig.every((v, i) => b[i] === v)) throw new H5Error("bad v2 B-tree node");
    for (let i = 0; i < count && out.length < limit; i++) out.push(b.slice(6 + i * recSize, 6 + (i + 1) * recSize));
    if (leaf) return;
    let p = 6 + count * recSize;
    for (let i = 0; i <= count; i++) {
      const child = h5.addr(b, p);
      const childCount = h5.uint(b, p + O, nrecSize);
      p += ptrSize(d);
      await visit(child, childCount, d - 1);
    }
  };
  if (root !== -1 && rootCount > 0) await visit(root, rootCount, depth);
  return out;
}

/** A fractal heap (managed, tiny and huge objects; filtered heaps are refused). */
class FractalHeap {
  idLength = 8;
  private filters = false;
  private maxManaged = 0;
  private width = 0;
  private startBlock = 0;
  private maxDirect = 0;
  private maxHeapBits = 0;
  private rootAddr = -1;
  private rootRows = 0;
  private hugeBtree = -1;
  private offSize = 0;
  private lenSize = 0;

  private constructor(private readonly h5: Hdf5Reader) {}

  static async open(h5: Hdf5Reader, addr: number): Promise<FractalHeap> {
    const O = h5.O;
    const L = h5.L;
    const b = await h5.read(addr, 4 + 1 + 2 + 2 + 1 + 4 + L + O + L + O + L * 8 + 2 + L * 2 + 2 + 2 + O + 2);
    if (b[0] !== 0x46 || b[1] !== 0x52 || b[2] !== 0x48 || b[3] !== 0x50) throw new H5Error("bad fractal heap header");
    const heap = new FractalHeap(h5);
    heap.idLength = h5.uint(b, 5, 2);
    heap.filters = h5.uint(b, 7, 2) > 0;
    heap.maxManaged = h5.uint(b, 10, 4);
    let p = 14 + L;
    heap.hugeBtree = h5.addr(b, p);
    p += O + L + O + L * 8;
    heap.width = h5.uint(b, p, 2);
    heap.startBlock = h5.uint(b, p + 2, L);
    heap.maxDirect = h5.uint(b, p + 2 + L, L);
    heap.maxHeapBits = h5.uint(b, p + 2 + 2 * L, 2);
    p += 2 + 2 * L + 2 + 2;
    heap.rootAddr = h5.addr(b, p);
    heap.rootRows = h5.uint(b, p + O, 2);
    if (heap.width < 1 || heap.width > 65536 || heap.startBlock < 1 || heap.maxDirect < heap.startBlock || heap.maxHeapBits > 64)
      throw new H5Error("fractal heap header is absurd");
    heap.offSize = Math.ceil(heap.maxHeapBits / 8);
    heap.lenSize = Math.min(Math.ceil(Math.log2(heap.maxDirect) / 8), encSize(heap.maxManaged));
    return heap;
  }

  /** The bytes of the object a heap ID names. */
  async object(id: Uint8Array): Promise<Uint8Array> {
    const type = (id[0]! >>> 4) & 3;
    if (type === 2) {
      const extended = this.idLength > 18;
      const len = extended ? (((id[0]! & 0x0f) << 8) | id[1]!) + 1 : (id[0]! & 0x0f) + 1;
      const from = extended ? 2 : 1;
      return id.slice(from, from + len);
    }
    if (type === 1) return this.huge(id);
    if (type !== 0 || this.filters) throw new H5Error("fractal heap object kind is not supported", "unsupported");
    const offset = this.h5.uint(id, 1, this.offSize);
    const length = this.h5.uint(id, 1 + this.offSize, this.lenSize);
    if (length > this.maxManaged || length > 64 << 20) throw new H5Error("fractal heap object is absurdly large");
    const at = this.rootRows === 0 ? this.rootAddr + offset : await this.locate(this.rootAddr, this.rootRows, 0, offset, 0);
    return this.h5.read(at, length);
  }

  private async huge(id: Uint8Array): Promise<Uint8Array> {
    const { O, L } = this.h5;
    if (this.filters) throw new H5Error("filtered huge heap objects are not supported", "unsupported");
    if (this.idLength >= 1 + O + L) return this.h5.read(this.h5.addr(id, 1), this.h5.uint(id, 1 + O, L));
    const key = this.h5.uint(id, 1, Math.min(this.idLength - 1, 8));
    for (const rec of await btree2Records(this.h5, this.hugeBtree, 100_000)) {
      if (this.h5.uint(rec, O + L, Math.min(L, rec.length - O - L)) === key)
        return this.h5.read(this.h5.addr(rec, 0), this.h5.uint(rec, O, L));
    }
    throw new H5Error("huge heap object not found");
  }

  private rowSize(row: number): number {
    return row < 2 ? this.startBlock : this.startBlock * 2 ** (row - 1);
  }

  /** File address of heap offset `offset` below the indirect block at `addr` (which starts at heap offset `base`). */
  private async locate(addr: number, rows: number, base: number, offset: number, depth: number): Promise<number> {
    if (depth > 16 || rows > 64) throw new H5Error("fractal heap is absurdly deep");
    const O = this.h5.O;
    const maxDirectRows = Math.log2(this.maxDirect) - Math.log2(this.startBlock) + 2;
    const entries = rows * this.width;
    const head = 5 + O + this.offSize;
    const b = await this.h5.read(addr, head + entries * O);
    if (b[0] !== 0x46 || b[1] !== 0x48 || b[2] !== 0x49 || b[3] !== 0x42) throw new H5Error("bad fractal heap indirect block");
    let rowStart = base;
    for (let row = 0; row < rows; row++) {
      const size = this.rowSize(row);
      const span = size * this.width;
      if (offset < rowStart + span) {
        const col = Math.floor((offset - rowStart) / size);
        const child = this.h5.addr(b, head + (row * this.width + col) * O);
        const childBase = rowStart + col * size;
        if (child === -1) throw new H5Error("fractal heap object lies in an unallocated block");
        if (row < maxDirectRows) return child + (offset - childBase);
        const childRows = Math.log2(size) - Math.log2(this.startBlock * this.width) + 1;
        return this.locate(child, childRows, childBase, offset, depth + 1);
      }
      rowStart += span;
    }
    throw new H5Error("fractal heap offset beyond the heap");
  }
}
