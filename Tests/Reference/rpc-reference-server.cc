// rpc-reference-server: the C++ baseline for `make bench-rpc` and `make bench`. Same C core (libgrpc++ 1.51
// from Debian), same mTLS, methods answered from memory: /interop.Echo/Echo returns its request,
// /grpc.health.v1.Health/Check answers SERVING, and /incident_manager.IncidentService/CreateIncident answers a
// valid CreateIncidentResponse with the next id without parsing the request (the in-memory ceiling that
// `incidentctl bench` compares our durable creates with). Uses the callback generic service, the C++ API's
// recommended fast path. Prints "PORT <n>"; SIGTERM/SIGINT stop it.
//
//   rpc-reference-server 127.0.0.1:0 server.pem server.key ca.pem
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

namespace {

std::string ReadFile(const char* path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        std::cerr << "rpc-reference-server: cannot read " << path << "\n";
        std::exit(2);
    }
    std::stringstream content;
    content << file.rdbuf();
    return content.str();
}

enum class Method { kEcho, kHealthCheck, kCreateIncident, kUnknown };

Method MethodNamed(const std::string& path) {
    if (path == "/interop.Echo/Echo") return Method::kEcho;
    if (path == "/grpc.health.v1.Health/Check") return Method::kHealthCheck;
    if (path == "/incident_manager.IncidentService/CreateIncident") return Method::kCreateIncident;
    return Method::kUnknown;
}

// Protobuf wire encoding of a string field, enough for the two fixed answers below.
void AppendString(std::string* out, int field, const std::string& value) {
    out->push_back(static_cast<char>(field << 3 | 2));
    size_t length = value.size();
    while (length >= 0x80) {
        out->push_back(static_cast<char>(length | 0x80));
        length >>= 7;
    }
    out->push_back(static_cast<char>(length));
    out->append(value);
}

// A CreateIncidentResponse as our server shapes it (status, incident_id, message, priority), numbered in turn.
grpc::ByteBuffer CreateIncidentResponse() {
    static std::atomic<unsigned long> next_id{1};
    char id[32];
    std::snprintf(id, sizeof id, "INC-20260101-%05lu", next_id.fetch_add(1, std::memory_order_relaxed));
    std::string body;
    AppendString(&body, 1, "accepted");
    AppendString(&body, 2, id);
    AppendString(&body, 3, "incident created");
    AppendString(&body, 6, "P3");
    grpc::Slice slice(body);
    return grpc::ByteBuffer(&slice, 1);
}

// HealthCheckResponse{status: SERVING}.
grpc::ByteBuffer ServingResponse() {
    static const char kServing[] = {0x08, 0x01};
    grpc::Slice slice(kServing, sizeof kServing);
    return grpc::ByteBuffer(&slice, 1);
}

// One call: read the single request, answer it, finish. Unknown methods get UNIMPLEMENTED.
class UnaryReactor : public grpc::ServerGenericBidiReactor {
  public:
    explicit UnaryReactor(Method method) : method_(method) {
        if (method_ == Method::kUnknown) {
            Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
            return;
        }
        StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
        if (!ok) {
            Finish(grpc::Status(grpc::StatusCode::INTERNAL, "missing request"));
            return;
        }
        if (method_ == Method::kHealthCheck) response_ = ServingResponse();
        else if (method_ == Method::kCreateIncident) response_ = CreateIncidentResponse();
        else response_ = request_;
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

  private:
    Method method_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
};

class ReferenceService : public grpc::CallbackGenericService {
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
        return new UnaryReactor(MethodNamed(context->method()));
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::cerr << "usage: rpc-reference-server ADDRESS CERT KEY CLIENT_CA\n";
        return 2;
    }
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // inherited by gRPC's threads

    grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    tls.pem_root_certs = ReadFile(argv[4]);
    tls.pem_key_cert_pairs.push_back({ReadFile(argv[3]), ReadFile(argv[2])});

    ReferenceService service;
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(argv[1], grpc::SslServerCredentials(tls), &port);
    builder.RegisterCallbackGenericService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0) {
        std::cerr << "rpc-reference-server: cannot listen on " << argv[1] << "\n";
        return 2;
    }
    std::cout << "PORT " << port << std::endl;

    int received = 0;
    sigwait(&stop_signals, &received);
    server->Shutdown();
    return 0;
}
