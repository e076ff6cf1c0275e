/* The libprotobuf-c half of `make bench-codec`: the same LLM-Shield CreateIncidentRequest, packed into a freshly
 * allocated buffer and unpacked (then freed) per iteration, as the Swift benchmark allocates its result.
 * Times are process CPU time, so a loaded machine (other builds on 2 cores) skews both sides less. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "incident_manager.pb-c.h"
#include "incident_types.pb-c.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 200000;
    IncidentManager__CreateIncidentRequest r = INCIDENT_MANAGER__CREATE_INCIDENT_REQUEST__INIT;
    IncidentManager__Resource res = INCIDENT_MANAGER__RESOURCE__INIT;
    r.event_id = "shield-2025-005678"; r.source = "llm-shield"; r.source_version = "2.1.0";
    r.timestamp = "2025-11-11T10:35:00Z"; r.event_type = "violation"; r.category = "security";
    r.title = "Prompt Injection Detected"; r.description = "Malicious prompt injection attempt blocked";
    r.severity = "critical";
    res.type = "model"; res.id = "model-gpt4-prod"; res.name = "GPT-4 Production";
    IncidentManager__Resource__MetadataEntry md[2] = {INCIDENT_MANAGER__RESOURCE__METADATA_ENTRY__INIT,
                                                      INCIDENT_MANAGER__RESOURCE__METADATA_ENTRY__INIT};
    md[0].key = "model_version"; md[0].value = "gpt-4-0613"; md[1].key = "deployment_id"; md[1].value = "dep-12345";
    IncidentManager__Resource__MetadataEntry *mdp[2] = {&md[0], &md[1]};
    res.n_metadata = 2; res.metadata = mdp;
    r.resource = &res;
    IncidentManager__CreateIncidentRequest__MetricsEntry me[2] = {
        INCIDENT_MANAGER__CREATE_INCIDENT_REQUEST__METRICS_ENTRY__INIT,
        INCIDENT_MANAGER__CREATE_INCIDENT_REQUEST__METRICS_ENTRY__INIT};
    me[0].key = "confidence_score"; me[0].value = 0.95; me[1].key = "attack_vectors"; me[1].value = 3;
    IncidentManager__CreateIncidentRequest__MetricsEntry *mep[2] = {&me[0], &me[1]};
    r.n_metrics = 2; r.metrics = mep;
    IncidentManager__CreateIncidentRequest__TagsEntry te[3] = {
        INCIDENT_MANAGER__CREATE_INCIDENT_REQUEST__TAGS_ENTRY__INIT,
        INCIDENT_MANAGER__CREATE_INCIDENT_REQUEST__TAGS_ENTRY__INIT,
        INCIDENT_MANAGER__CREATE_INCIDENT_REQUEST__TAGS_ENTRY__INIT};
    te[0].key = "environment"; te[0].value = "production"; te[1].key = "user_id"; te[1].value = "user-789";
    te[2].key = "session_id"; te[2].value = "sess-abc123";
    IncidentManager__CreateIncidentRequest__TagsEntry *tep[3] = {&te[0], &te[1], &te[2]};
    r.n_tags = 3; r.tags = tep;
    uint8_t payload[96];
    for (int i = 0; i < 96; i++) payload[i] = (uint8_t)(i * 37 + 11);
    r.encrypted_payload.len = 96; r.encrypted_payload.data = payload;

    size_t size = incident_manager__create_incident_request__get_packed_size(&r);
    uint8_t *encoded = malloc(size);
    incident_manager__create_incident_request__pack(&r, encoded);
    long sink = 0;

    for (long i = 0; i < iterations / 10; i++) {
        uint8_t *buf = malloc(incident_manager__create_incident_request__get_packed_size(&r));
        sink += incident_manager__create_incident_request__pack(&r, buf);
        free(buf);
    }
    double t0 = now();
    for (long i = 0; i < iterations; i++) {
        uint8_t *buf = malloc(incident_manager__create_incident_request__get_packed_size(&r));
        sink += incident_manager__create_incident_request__pack(&r, buf);
        free(buf);
    }
    double t = now() - t0;
    printf("protobuf-c encode %zu bytes: %.1f ns/msg %.1f MB/s (sink %ld)\n", size, t * 1e9 / iterations,
           size * (double)iterations / t / 1e6, sink & 1);

    for (long i = 0; i < iterations / 10; i++) {
        IncidentManager__CreateIncidentRequest *m = incident_manager__create_incident_request__unpack(NULL, size, encoded);
        sink += m->n_metrics;
        incident_manager__create_incident_request__free_unpacked(m, NULL);
    }
    t0 = now();
    for (long i = 0; i < iterations; i++) {
        IncidentManager__CreateIncidentRequest *m = incident_manager__create_incident_request__unpack(NULL, size, encoded);
        sink += m->n_metrics;
        incident_manager__create_incident_request__free_unpacked(m, NULL);
    }
    t = now() - t0;
    printf("protobuf-c decode %zu bytes: %.1f ns/msg %.1f MB/s (sink %ld)\n", size, t * 1e9 / iterations,
           size * (double)iterations / t / 1e6, sink & 1);
    free(encoded);
    return 0;
}
