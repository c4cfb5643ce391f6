#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include "image_codec.h"

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
} memory_reader;

static void read_memory(png_structp png, png_bytep dst, png_size_t n) {
    memory_reader *r = png_get_io_ptr(png);
    if (n > r->size - r->offset) png_error(png, "file is truncated");
    memcpy(dst, r->data + r->offset, n);
    r->offset += n;
}

static void on_error(png_structp png, png_const_charp msg) {
    glimpse_image *out = png_get_error_ptr(png);
    snprintf(out->message, sizeof out->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    glimpse_image *out = png_get_error_ptr(png);
    if (out->warnings++ == 0) snprintf(out->message, sizeof out->message, "%s", msg);
}

glimpse_image_status glimpse_decode_png(const uint8_t *data, size_t size, uint64_t max_pixels, glimpse_image *out) {
    memset(out, 0, sizeof *out);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out, on_error, on_warning);
    if (!png) return GLIMPSE_IMAGE_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return GLIMPSE_IMAGE_NO_MEMORY;
    }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return GLIMPSE_IMAGE_CORRUPT;
    }
    memory_reader reader = {data, size, 0};
    png_set_read_fn(png, &reader, read_memory);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((uint64_t)w * h > max_pixels) {
        snprintf(out->message, sizeof out->message, "%ux%u pixels is above the limit of %llu",
                 w, h, (unsigned long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return GLIMPSE_IMAGE_TOO_LARGE;
    }
    // Everything to 8-bit RGB: palette and low-bit grey expanded, 16-bit rounded down, alpha dropped
    // (as Pillow's convert("RGB") does, which the reference preprocessors use).
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unexpected pixel layout after conversion");
    pixels = malloc((size_t)w * h * 3);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return GLIMPSE_IMAGE_NO_MEMORY;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->pixels = pixels;
    out->width = w;
    out->height = h;
    return GLIMPSE_IMAGE_OK;
}
