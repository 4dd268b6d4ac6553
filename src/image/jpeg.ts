/**
 * JPEG headers read in JavaScript, for both decoders (sharp in Node, the browser's in browsers): the frame size and
 * components before decoding (the pixel limit is checked without decoding), and the APPn segments that cannot change
 * pixels dropped before the decoder sees them.
 */

/**
 * The marker segments of a JPEG's header, in order, up to the first scan (SOS) or the end: `[marker, start, end)`
 * byte ranges, the marker's own two bytes included; `scan` is where the scan data (or the end) starts, `undefined`
 * when a segment runs past the bytes or a byte that is no marker sits where one belongs. `undefined` for a non-JPEG.
 */
function jpegSegments(bytes: Uint8Array): { segments: [marker: number, start: number, end: number][]; scan: number | undefined } | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const segments: [number, number, number][] = [];
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return { segments, scan: undefined };
    const marker = bytes[i + 1]!;
    if (marker === 0xff) { i++; continue; } // fill byte
    if (marker === 0xda || marker === 0xd9) return { segments, scan: i }; // scan data / end
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { segments.push([marker, i, i + 2]); i += 2; continue; } // no length
    const end = i + 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
    segments.push([marker, i, end]);
    if (end > bytes.length) return { segments, scan: undefined };
    i = end;
  }
  return { segments, scan: undefined };
}

/**
 * Size and component count of a JPEG from its frame header (SOFn), without decoding; `undefined` when `bytes` is
 * not a JPEG or the header cannot be found (the caller then asks the decoder).
 */
export function jpegFrame(bytes: Uint8Array): { width: number; height: number; components: number } | undefined {
  for (const [marker, i] of jpegSegments(bytes)?.segments ?? []) {
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (!sof) continue;
    if (i + 10 > bytes.length) return undefined;
    return { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]!, components: bytes[i + 9]! };
  }
  return undefined;
}

/**
 * The JPEG without the APPn segments that do not change its pixels (EXIF, XMP, ICC, Photoshop, ...: APP1-APP13,
 * APP15) and comments; APP0 (JFIF) and APP14 (Adobe) stay, since libjpeg reads the colour transform from them. libvips
 * parses what it is given (EXIF and XMP alone cost about 0.5 ms for a phone photo's); browsers would apply the ICC
 * profile and the EXIF orientation; PIL ignores them all. Returns
 * `bytes` itself when there is nothing to drop.
 */
export function stripJpegMetadata(bytes: Uint8Array): Uint8Array {
  const header = jpegSegments(bytes);
  if (header?.scan === undefined) return bytes; // not a JPEG, or a header we cannot walk: the decoder gets it as it is
  const metadata = (m: number): boolean => (m >= 0xe1 && m <= 0xed) || m === 0xef || m === 0xfe;
  if (!header.segments.some(([m]) => metadata(m))) return bytes;
  const keep = header.segments.filter(([m]) => !metadata(m));
  const out = new Uint8Array(2 + keep.reduce((n, [, a, b]) => n + b - a, 0) + bytes.length - header.scan);
  out.set(bytes.subarray(0, 2));
  let o = 2;
  for (const [, a, b] of keep) { out.set(bytes.subarray(a, b), o); o += b - a; }
  out.set(bytes.subarray(header.scan), o);
  return out;
}

