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

#endif
