// Request slots: the fixed-address storage a server request fills in before its tag completes.
#include "CGRPC.h"

cgrpc_request_slot *cgrpc_request_slot_create(void) {
    cgrpc_request_slot *slot = gpr_zalloc(sizeof(cgrpc_request_slot));
    grpc_metadata_array_init(&slot->metadata);
    grpc_call_details_init(&slot->details);
    return slot;
}

void cgrpc_request_slot_reset(cgrpc_request_slot *slot) {
    slot->call = NULL;
    grpc_metadata_array_destroy(&slot->metadata);
    grpc_metadata_array_init(&slot->metadata);
    grpc_call_details_destroy(&slot->details);
    grpc_call_details_init(&slot->details);
    if (slot->payload) grpc_byte_buffer_destroy(slot->payload);
    slot->payload = NULL;
}

void cgrpc_request_slot_destroy(cgrpc_request_slot *slot) {
    if (!slot) return;
    if (slot->call) grpc_call_unref(slot->call);
    slot->call = NULL;
    cgrpc_request_slot_reset(slot);
    grpc_metadata_array_destroy(&slot->metadata);
    grpc_call_details_destroy(&slot->details);
    gpr_free(slot);
}

grpc_call_error cgrpc_request_slot_post_registered(cgrpc_request_slot *slot, grpc_server *server, void *method,
                                                   int wants_payload, grpc_completion_queue *cq, void *tag) {
    return grpc_server_request_registered_call(server, method, &slot->call, &slot->deadline, &slot->metadata,
                                               wants_payload ? &slot->payload : NULL, cq, cq, tag);
}

grpc_call_error cgrpc_request_slot_post_generic(cgrpc_request_slot *slot, grpc_server *server,
                                                grpc_completion_queue *cq, void *tag) {
    return grpc_server_request_call(server, &slot->call, &slot->details, &slot->metadata, cq, cq, tag);
}

grpc_byte_buffer *cgrpc_request_slot_take_payload(cgrpc_request_slot *slot) {
    grpc_byte_buffer *payload = slot->payload;
    slot->payload = NULL;
    return payload;
}
