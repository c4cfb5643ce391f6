#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <png.h>
#include "image_codec.h"

// Encoding for sending images to servers (remote panes): PNG keeps the pixels exact, JPEG keeps large
// photos small. Errors come back as a status and a message, never as exit() or a longjmp past Swift.

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} encode_error_manager;

static void on_encode_error(j_common_ptr cinfo) {
    encode_error_manager *err = (encode_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void on_encode_message(j_common_ptr cinfo, int level) { (void)cinfo; (void)level; }

glimpse_image_status glimpse_encode_jpeg(const uint8_t *rgb, uint32_t width, uint32_t height, int quality,
                                         glimpse_encoded *out) {
    memset(out, 0, sizeof *out);
    struct jpeg_compress_struct cinfo;
    encode_error_manager err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_encode_error;
    err.base.emit_message = on_encode_message;
    err.message = out->message;
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return GLIMPSE_IMAGE_CORRUPT;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * width * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    out->bytes = buffer;
    out->size = size;
    return GLIMPSE_IMAGE_OK;
}

glimpse_image_status glimpse_encode_png(const uint8_t *rgb, uint32_t width, uint32_t height, glimpse_encoded *out) {
    memset(out, 0, sizeof *out);
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, rgb, 0, NULL)) {
        snprintf(out->message, sizeof out->message, "%s", image.message);
        png_image_free(&image);
        return GLIMPSE_IMAGE_CORRUPT;
    }
    uint8_t *buffer = malloc(size);
    if (!buffer) return GLIMPSE_IMAGE_NO_MEMORY;
    if (!png_image_write_to_memory(&image, buffer, &size, 0, rgb, 0, NULL)) {
        snprintf(out->message, sizeof out->message, "%s", image.message);
        png_image_free(&image);
        free(buffer);
        return GLIMPSE_IMAGE_CORRUPT;
    }
    out->bytes = buffer;
    out->size = size;
    return GLIMPSE_IMAGE_OK;
}

void glimpse_encoded_free(glimpse_encoded *encoded) {
    free(encoded->bytes);
    encoded->bytes = NULL;
    encoded->size = 0;
}
