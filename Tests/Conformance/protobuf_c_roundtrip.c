/* Reference codec for the differential test: reads length-prefixed messages of one type from stdin, decodes each
 * with libprotobuf-c, re-encodes it and writes it back length-prefixed (0xFFFFFFFF when libprotobuf-c refuses it).
 * Built by the test against code protoc-c generates at test time from Protos/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "incident_manager.pb-c.h"
#include "incident_types.pb-c.h"

static const ProtobufCMessageDescriptor *find(const char *name) {
    const ProtobufCMessageDescriptor *all[] = {
        &incident_manager__create_incident_request__descriptor,
        &incident_manager__create_incident_response__descriptor,
        &incident_manager__update_incident_request__descriptor,
        &incident_manager__stream_incidents_request__descriptor,
        &incident_manager__list_incidents_request__descriptor,
        &incident_manager__list_incidents_response__descriptor,
        &incident_manager__incident__descriptor,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0) return all[i];
    return NULL;
}

static int read_exact(void *buf, size_t n) { return fread(buf, 1, n, stdin) == n; }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s incident_manager.Message\n", argv[0]); return 2; }
    const ProtobufCMessageDescriptor *d = find(argv[1]);
    if (!d) { fprintf(stderr, "unknown message %s\n", argv[1]); return 2; }
    uint32_t len;
    while (read_exact(&len, 4)) {
        uint8_t *in = malloc(len ? len : 1);
        if (!in || !read_exact(in, len)) return 3;
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, in);
        free(in);
        if (!m) {
            uint32_t refused = 0xFFFFFFFFu;
            fwrite(&refused, 4, 1, stdout);
            continue;
        }
        uint32_t out_len = (uint32_t)protobuf_c_message_get_packed_size(m);
        uint8_t *out = malloc(out_len ? out_len : 1);
        protobuf_c_message_pack(m, out);
        fwrite(&out_len, 4, 1, stdout);
        fwrite(out, 1, out_len, stdout);
        free(out);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    fflush(stdout);
    return 0;
}
