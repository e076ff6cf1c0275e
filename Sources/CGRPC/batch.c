// Batches: a grpc_op array plus every buffer its operations point into, at a fixed address
// until the batch's tag completes.
#include "CGRPC.h"

struct cgrpc_batch {
    grpc_op ops[6];
    size_t op_count;
    grpc_metadata *metadata[2];      // [0] initial / request, [1] trailing
    size_t metadata_count[2];
    size_t metadata_capacity[2];
    grpc_byte_buffer *send_message;
    grpc_slice send_status_details;
    int has_send_status_details;
    int cancelled;
    grpc_metadata_array recv_initial_metadata;
    grpc_metadata_array recv_trailing_metadata;
    grpc_byte_buffer *recv_message;
    grpc_status_code recv_status;
    grpc_slice recv_status_details;
    const char *error_string;
};

cgrpc_batch *cgrpc_batch_create(void) {
    cgrpc_batch *batch = gpr_zalloc(sizeof(cgrpc_batch));
    grpc_metadata_array_init(&batch->recv_initial_metadata);
    grpc_metadata_array_init(&batch->recv_trailing_metadata);
    batch->recv_status_details = grpc_empty_slice();
    return batch;
}

static void free_sent_metadata(cgrpc_batch *batch, int which) {
    for (size_t i = 0; i < batch->metadata_count[which]; i++) {
        grpc_slice_unref(batch->metadata[which][i].key);
        grpc_slice_unref(batch->metadata[which][i].value);
    }
    batch->metadata_count[which] = 0;
}

void cgrpc_batch_reset(cgrpc_batch *batch) {
    free_sent_metadata(batch, 0);
    free_sent_metadata(batch, 1);
    if (batch->send_message) grpc_byte_buffer_destroy(batch->send_message);
    batch->send_message = NULL;
    if (batch->has_send_status_details) grpc_slice_unref(batch->send_status_details);
    batch->has_send_status_details = 0;
    grpc_metadata_array_destroy(&batch->recv_initial_metadata);
    grpc_metadata_array_init(&batch->recv_initial_metadata);
    grpc_metadata_array_destroy(&batch->recv_trailing_metadata);
    grpc_metadata_array_init(&batch->recv_trailing_metadata);
    if (batch->recv_message) grpc_byte_buffer_destroy(batch->recv_message);
    batch->recv_message = NULL;
    grpc_slice_unref(batch->recv_status_details);
    batch->recv_status_details = grpc_empty_slice();
    if (batch->error_string) gpr_free((void *)batch->error_string);
    batch->error_string = NULL;
    batch->cancelled = 0;
    batch->recv_status = GRPC_STATUS_OK;
    batch->op_count = 0;
    memset(batch->ops, 0, sizeof(batch->ops));
}

void cgrpc_batch_destroy(cgrpc_batch *batch) {
    if (!batch) return;
    cgrpc_batch_reset(batch);
    grpc_metadata_array_destroy(&batch->recv_initial_metadata);
    grpc_metadata_array_destroy(&batch->recv_trailing_metadata);
    grpc_slice_unref(batch->recv_status_details);
    gpr_free(batch->metadata[0]);
    gpr_free(batch->metadata[1]);
    gpr_free(batch);
}

void cgrpc_batch_add_metadata(cgrpc_batch *batch, int trailing, const char *key, size_t key_length,
                              const void *value, size_t value_length) {
    int which = trailing ? 1 : 0;
    if (batch->metadata_count[which] == batch->metadata_capacity[which]) {
        size_t capacity = batch->metadata_capacity[which] ? batch->metadata_capacity[which] * 2 : 4;
        batch->metadata[which] = gpr_realloc(batch->metadata[which], capacity * sizeof(grpc_metadata));
        batch->metadata_capacity[which] = capacity;
    }
    grpc_metadata *entry = &batch->metadata[which][batch->metadata_count[which]++];
    memset(entry, 0, sizeof(*entry));
    entry->key = grpc_slice_from_copied_buffer(key, key_length);
    entry->value = grpc_slice_from_copied_buffer(value, value_length);
}

static grpc_op *next_op(cgrpc_batch *batch, grpc_op_type type) {
    grpc_op *op = &batch->ops[batch->op_count++];
    memset(op, 0, sizeof(*op));
    op->op = type;
    return op;
}

void cgrpc_batch_send_initial_metadata(cgrpc_batch *batch, uint32_t flags) {
    grpc_op *op = next_op(batch, GRPC_OP_SEND_INITIAL_METADATA);
    op->flags = flags;
    op->data.send_initial_metadata.count = batch->metadata_count[0];
    op->data.send_initial_metadata.metadata = batch->metadata[0];
}

void cgrpc_batch_send_message(cgrpc_batch *batch, const void *bytes, size_t length) {
    grpc_slice slice = grpc_slice_from_copied_buffer(bytes, length);
    if (batch->send_message) grpc_byte_buffer_destroy(batch->send_message);
    batch->send_message = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    next_op(batch, GRPC_OP_SEND_MESSAGE)->data.send_message.send_message = batch->send_message;
}

void cgrpc_batch_send_shared_message(cgrpc_batch *batch, const grpc_slice *message, int buffer_hint) {
    if (batch->send_message) grpc_byte_buffer_destroy(batch->send_message);
    // The byte buffer takes its own reference to the slice: one encoding serves every stream that sends it.
    batch->send_message = grpc_raw_byte_buffer_create((grpc_slice *)message, 1);
    grpc_op *op = next_op(batch, GRPC_OP_SEND_MESSAGE);
    op->flags = buffer_hint ? GRPC_WRITE_BUFFER_HINT : 0;
    op->data.send_message.send_message = batch->send_message;
}

void cgrpc_batch_send_close_from_client(cgrpc_batch *batch) { next_op(batch, GRPC_OP_SEND_CLOSE_FROM_CLIENT); }

void cgrpc_batch_send_status(cgrpc_batch *batch, int code, const char *details, size_t details_length) {
    if (batch->has_send_status_details) grpc_slice_unref(batch->send_status_details);
    batch->send_status_details = grpc_slice_from_copied_buffer(details, details_length);
    batch->has_send_status_details = 1;
    grpc_op *op = next_op(batch, GRPC_OP_SEND_STATUS_FROM_SERVER);
    op->data.send_status_from_server.status = (grpc_status_code)code;
    op->data.send_status_from_server.status_details = &batch->send_status_details;
    op->data.send_status_from_server.trailing_metadata_count = batch->metadata_count[1];
    op->data.send_status_from_server.trailing_metadata = batch->metadata[1];
}

void cgrpc_batch_recv_close_on_server(cgrpc_batch *batch) {
    next_op(batch, GRPC_OP_RECV_CLOSE_ON_SERVER)->data.recv_close_on_server.cancelled = &batch->cancelled;
}

void cgrpc_batch_recv_initial_metadata(cgrpc_batch *batch) {
    next_op(batch, GRPC_OP_RECV_INITIAL_METADATA)->data.recv_initial_metadata.recv_initial_metadata =
        &batch->recv_initial_metadata;
}

void cgrpc_batch_recv_message(cgrpc_batch *batch) {
    next_op(batch, GRPC_OP_RECV_MESSAGE)->data.recv_message.recv_message = &batch->recv_message;
}

void cgrpc_batch_recv_status_on_client(cgrpc_batch *batch) {
    grpc_op *op = next_op(batch, GRPC_OP_RECV_STATUS_ON_CLIENT);
    op->data.recv_status_on_client.trailing_metadata = &batch->recv_trailing_metadata;
    op->data.recv_status_on_client.status = &batch->recv_status;
    op->data.recv_status_on_client.status_details = &batch->recv_status_details;
    op->data.recv_status_on_client.error_string = &batch->error_string;
}

grpc_call_error cgrpc_batch_start(grpc_call *call, cgrpc_batch *batch, void *tag) {
    return grpc_call_start_batch(call, batch->ops, batch->op_count, tag, NULL);
}

int cgrpc_batch_cancelled(const cgrpc_batch *batch) { return batch->cancelled; }
grpc_byte_buffer *cgrpc_batch_received_message(const cgrpc_batch *batch) { return batch->recv_message; }
int cgrpc_batch_status(const cgrpc_batch *batch) { return (int)batch->recv_status; }
const grpc_slice *cgrpc_batch_status_details(const cgrpc_batch *batch) { return &batch->recv_status_details; }
const char *cgrpc_batch_error_string(const cgrpc_batch *batch) { return batch->error_string; }
const grpc_metadata_array *cgrpc_batch_received_initial_metadata(const cgrpc_batch *batch) {
    return &batch->recv_initial_metadata;
}
const grpc_metadata_array *cgrpc_batch_received_trailing_metadata(const cgrpc_batch *batch) {
    return &batch->recv_trailing_metadata;
}
