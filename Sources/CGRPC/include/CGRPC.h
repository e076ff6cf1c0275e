// CGRPC: the one door to the gRPC C core (libgrpc 1.51).
// libc headers come first: grpc's port_platform.h defines _GNU_SOURCE before
// <features.h>, and Clang modules then disagree with Dispatch about fd_set.
#ifndef CGRPC_H
#define CGRPC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/select.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <grpc/support/string_util.h>


// ---- Shims: what Swift cannot express directly ----------------------------
// Function-like macros (slice accessors, propagation defaults) do not import into Swift,
// and the memory a batch writes into must stay at a fixed address until its tag completes,
// which Swift's `withUnsafe...` scopes cannot promise across an `await`. So a batch owns
// its buffers in C; each is owned by exactly one Swift object that destroys it.

/// GRPC_SLICE_START_PTR / GRPC_SLICE_LENGTH as functions.
const uint8_t *cgrpc_slice_start(const grpc_slice *slice);
size_t cgrpc_slice_length(const grpc_slice *slice);
/// GRPC_PROPAGATE_DEFAULTS as a function.
uint32_t cgrpc_propagate_defaults(void);

/// A byte buffer's total length and a flat copy of its bytes into dst (capacity >= length).
size_t cgrpc_byte_buffer_length(grpc_byte_buffer *buffer);
int cgrpc_byte_buffer_copy(grpc_byte_buffer *buffer, uint8_t *dst, size_t capacity);

/// What `grpc_server_request_(registered_)call` fills in; one per outstanding request.
typedef struct cgrpc_request_slot {
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array metadata;
    grpc_byte_buffer *payload;
    grpc_call_details details;
} cgrpc_request_slot;

cgrpc_request_slot *cgrpc_request_slot_create(void);
/// Forgets the call (now owned elsewhere) and frees what the last request filled in.
void cgrpc_request_slot_reset(cgrpc_request_slot *slot);
void cgrpc_request_slot_destroy(cgrpc_request_slot *slot);
grpc_call_error cgrpc_request_slot_post_registered(cgrpc_request_slot *slot, grpc_server *server, void *method,
                                                   int wants_payload, grpc_completion_queue *cq, void *tag);
grpc_call_error cgrpc_request_slot_post_generic(cgrpc_request_slot *slot, grpc_server *server,
                                                grpc_completion_queue *cq, void *tag);
/// Takes the request payload out of the slot (the caller destroys it).
grpc_byte_buffer *cgrpc_request_slot_take_payload(cgrpc_request_slot *slot);

/// One batch of operations and every buffer it reads from or writes into.
typedef struct cgrpc_batch cgrpc_batch;

cgrpc_batch *cgrpc_batch_create(void);
void cgrpc_batch_destroy(cgrpc_batch *batch);
/// Clears the operations and frees buffers so the batch can be started again.
void cgrpc_batch_reset(cgrpc_batch *batch);
/// Appends metadata to send: `trailing` 0 = initial (or client request) metadata, 1 = trailing.
void cgrpc_batch_add_metadata(cgrpc_batch *batch, int trailing, const char *key, size_t key_length,
                              const void *value, size_t value_length);
void cgrpc_batch_send_initial_metadata(cgrpc_batch *batch, uint32_t flags);
void cgrpc_batch_send_message(cgrpc_batch *batch, const void *bytes, size_t length);
/// Sends a message already held in a slice: the batch takes a reference, the bytes are not copied.
/// `buffer_hint` lets the core hold the message back (and complete the operation at once) until a later
/// message without the hint, within the transport's write buffer: how a run of messages shares one write.
void cgrpc_batch_send_shared_message(cgrpc_batch *batch, const grpc_slice *message, int buffer_hint);
void cgrpc_batch_send_close_from_client(cgrpc_batch *batch);
void cgrpc_batch_send_status(cgrpc_batch *batch, int code, const char *details, size_t details_length);
void cgrpc_batch_recv_close_on_server(cgrpc_batch *batch);
void cgrpc_batch_recv_initial_metadata(cgrpc_batch *batch);
void cgrpc_batch_recv_message(cgrpc_batch *batch);
void cgrpc_batch_recv_status_on_client(cgrpc_batch *batch);
grpc_call_error cgrpc_batch_start(grpc_call *call, cgrpc_batch *batch, void *tag);

int cgrpc_batch_cancelled(const cgrpc_batch *batch);
/// The received message, or NULL when the stream ended instead.
grpc_byte_buffer *cgrpc_batch_received_message(const cgrpc_batch *batch);
int cgrpc_batch_status(const cgrpc_batch *batch);
const grpc_slice *cgrpc_batch_status_details(const cgrpc_batch *batch);
const char *cgrpc_batch_error_string(const cgrpc_batch *batch);
const grpc_metadata_array *cgrpc_batch_received_initial_metadata(const cgrpc_batch *batch);
const grpc_metadata_array *cgrpc_batch_received_trailing_metadata(const cgrpc_batch *batch);

#endif
