/** Which files in a folder are images: the formats the decoders read (decode.ts: sharp's and our BMP reader). */
export const IMAGE_FILE = /\.(jpe?g|png|bmp|webp|gif|tiff?|avif)$/i;
/** The same formats, as messages name them. */
export const IMAGE_FORMATS = 'JPEG, PNG, BMP, WebP, GIF, TIFF, AVIF';
