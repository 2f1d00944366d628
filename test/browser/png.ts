/**
 * A small PNG reader for the browser test's structural screenshot comparison: 8-bit RGB or RGBA,
 * non-interlaced (what Chromium writes). Returns the pixels as RGBA.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

export function readPng(buf: Buffer): Image {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[12] !== 0) throw new Error('only 8-bit non-interlaced PNGs');
      colourType = body[9] as number;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  if (bpp === 0) throw new Error(`PNG colour type ${colourType} not supported`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? (cur[x - bpp] as number) : 0;
      const b = prev[x] as number;
      const c = x >= bpp ? (prev[x - bpp] as number) : 0;
      let v = line[x] as number;
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = v & 255;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      out[o] = cur[x * bpp] as number;
      out[o + 1] = cur[x * bpp + 1] as number;
      out[o + 2] = cur[x * bpp + 2] as number;
      out[o + 3] = bpp === 4 ? (cur[x * bpp + 3] as number) : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba: out };
}

/**
 * A coarse structure of an image: a grid of cells, each 'ink' when more than 3% of its pixels
 * are far from white. Layout, lanes, arrows and text blocks show; anti-aliasing and font
 * hinting do not.
 */
export function inkGrid(img: Image, cols: number, rows: number): boolean[][] {
  const grid: boolean[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: boolean[] = [];
    for (let c = 0; c < cols; c++) {
      const x0 = Math.floor((c * img.width) / cols);
      const x1 = Math.floor(((c + 1) * img.width) / cols);
      const y0 = Math.floor((r * img.height) / rows);
      const y1 = Math.floor(((r + 1) * img.height) / rows);
      let ink = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const o = (y * img.width + x) * 4;
          if ((img.rgba[o] as number) + (img.rgba[o + 1] as number) + (img.rgba[o + 2] as number) < 600) ink++;
        }
      }
      row.push(ink > 0.03 * (x1 - x0) * (y1 - y0));
    }
    grid.push(row);
  }
  return grid;
}

/** Counts pixels close to a colour (#rrggbb) in a rectangle. */
export function countColour(img: Image, hex: string, x0: number, y0: number, x1: number, y1: number, tolerance = 40): number {
  const r = parseInt(hex.slice(1, 3), 16);
  const g = parseInt(hex.slice(3, 5), 16);
  const b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      const o = (y * img.width + x) * 4;
      if (Math.abs((img.rgba[o] as number) - r) + Math.abs((img.rgba[o + 1] as number) - g) + Math.abs((img.rgba[o + 2] as number) - b) <= tolerance) n++;
    }
  }
  return n;
}
