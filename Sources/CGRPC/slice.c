// Slice, byte-buffer and propagation helpers: the C macros Swift cannot call.
#include "CGRPC.h"

const uint8_t *cgrpc_slice_start(const grpc_slice *slice) { return GRPC_SLICE_START_PTR(*slice); }

size_t cgrpc_slice_length(const grpc_slice *slice) { return GRPC_SLICE_LENGTH(*slice); }

uint32_t cgrpc_propagate_defaults(void) { return GRPC_PROPAGATE_DEFAULTS; }

size_t cgrpc_byte_buffer_length(grpc_byte_buffer *buffer) { return grpc_byte_buffer_length(buffer); }

int cgrpc_byte_buffer_copy(grpc_byte_buffer *buffer, uint8_t *dst, size_t capacity) {
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, buffer)) return -1;
    size_t offset = 0;
    grpc_slice slice;
    while (grpc_byte_buffer_reader_next(&reader, &slice)) {
        size_t length = GRPC_SLICE_LENGTH(slice);
        if (offset + length > capacity) {
            grpc_slice_unref(slice);
            grpc_byte_buffer_reader_destroy(&reader);
            return -1;
        }
        memcpy(dst + offset, GRPC_SLICE_START_PTR(slice), length);
        offset += length;
        grpc_slice_unref(slice);
    }
    grpc_byte_buffer_reader_destroy(&reader);
    return 0;
}
