#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "image_codec.h"

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    glimpse_image *out;
} error_manager;

static void on_error(j_common_ptr cinfo) {
    error_manager *err = (error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->out->message);
    longjmp(err->jump, 1);
}

// Warnings are counted, not printed (they would land on the terminal UI).
static void on_message(j_common_ptr cinfo, int level) {
    error_manager *err = (error_manager *)cinfo->err;
    if (level < 0) {
        if (err->out->warnings == 0) (*cinfo->err->format_message)(cinfo, err->out->message);
        err->out->warnings++;
    }
}

glimpse_image_status glimpse_decode_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, glimpse_image *out) {
    memset(out, 0, sizeof *out);
    struct jpeg_decompress_struct cinfo;
    error_manager err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error;
    err.base.emit_message = on_message;
    err.out = out;
    uint8_t *volatile pixels = NULL;
    JSAMPLE *volatile row = NULL;
    if (setjmp(err.jump)) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        out->pixels = NULL;
        return GLIMPSE_IMAGE_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        snprintf(out->message, sizeof out->message, "%ux%u pixels is above the limit of %llu",
                 cinfo.image_width, cinfo.image_height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return GLIMPSE_IMAGE_TOO_LARGE;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    // Grey is decoded as grey and replicated (as Pillow does): libjpeg's own grey-to-RGB path differs.
    int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = cmyk ? JCS_CMYK : gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, channels = cinfo.output_components;
    pixels = malloc(w * h * 3);
    row = malloc(w * channels);
    if (!pixels || !row) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return GLIMPSE_IMAGE_NO_MEMORY;
    }
    // Adobe writes CMYK inverted. Pillow (the reference) un-inverts such files, then converts with
    // R = (255 - K) - (255 - K)·C / 255, rounded as its MULDIV255 does; this reproduces it byte for byte.
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < h) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        uint8_t *dst = pixels + y * w * 3;
        if (gray) {
            for (size_t x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
            continue;
        }
        if (!cmyk) {
            memcpy(dst, row, w * 3);
            continue;
        }
        for (size_t x = 0; x < w; x++) {
            for (int ch = 0; ch < 3; ch++) {
                unsigned v = row[4 * x + ch], k = row[4 * x + 3];
                if (inverted) { v = 255 - v; k = 255 - k; }
                unsigned nk = 255 - k, t = v * nk + 128;
                int r = (int)nk - (int)((t + (t >> 8)) >> 8);
                dst[3 * x + ch] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->pixels = pixels;
    out->width = (uint32_t)w;
    out->height = (uint32_t)h;
    return GLIMPSE_IMAGE_OK;
}

void glimpse_image_free(glimpse_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}
