#ifndef GLIMPSE_IMAGE_CODEC_H
#define GLIMPSE_IMAGE_CODEC_H
// JPEG and PNG decoding to 8-bit RGB through libjpeg and libpng. The libraries report fatal errors by
// longjmp (libjpeg's default handler calls exit()); this target owns that, so callers only see a status.
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GLIMPSE_IMAGE_OK = 0,
    GLIMPSE_IMAGE_NOT_AN_IMAGE = 1,   // neither a JPEG nor a PNG signature
    GLIMPSE_IMAGE_CORRUPT = 2,        // the library refused the data (message says why)
    GLIMPSE_IMAGE_TOO_LARGE = 3,      // width*height above the caller's limit (checked before decoding)
    GLIMPSE_IMAGE_NO_MEMORY = 4,
} glimpse_image_status;

typedef struct {
    uint8_t *pixels;        // width*height*3 bytes, RGB, rows top to bottom; free with glimpse_image_free
    uint32_t width;
    uint32_t height;
    uint32_t warnings;      // libjpeg warnings (a truncated JPEG decodes "successfully" with grey fill)
    char message[200];      // what went wrong, or the first warning
} glimpse_image;

glimpse_image_status glimpse_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, glimpse_image *out);
glimpse_image_status glimpse_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, glimpse_image *out);
void glimpse_image_free(glimpse_image *image);

typedef struct {
    uint8_t *bytes;         // the encoded file; free with glimpse_encoded_free
    size_t size;
    char message[200];      // what went wrong
} glimpse_encoded;

// `rgb` is width*height*3 bytes, rows top to bottom. `quality` is libjpeg's 1...100.
glimpse_image_status glimpse_encode_jpeg(const uint8_t *rgb, uint32_t width, uint32_t height, int quality,
                                         glimpse_encoded *out);
glimpse_image_status glimpse_encode_png(const uint8_t *rgb, uint32_t width, uint32_t height, glimpse_encoded *out);
void glimpse_encoded_free(glimpse_encoded *encoded);

#endif
