// rpc-reference-server: the C++ baseline for `make bench-rpc`. Same C core (libgrpc++ 1.51 from
// Debian), same trivial method (/interop.Echo/Echo answers its request from memory), same mTLS.
// Uses the callback generic service, the C++ API's recommended fast path. Prints "PORT <n>";
// SIGTERM/SIGINT stop it.
//
//   rpc-reference-server 127.0.0.1:0 server.pem server.key ca.pem
#include <csignal>
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

// One call: read the single request, answer it, finish. Unknown methods get UNIMPLEMENTED.
class EchoReactor : public grpc::ServerGenericBidiReactor {
  public:
    explicit EchoReactor(bool known) {
        if (!known) {
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
        StartWriteAndFinish(&request_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

  private:
    grpc::ByteBuffer request_;
};

class EchoService : public grpc::CallbackGenericService {
    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
        return new EchoReactor(context->method() == "/interop.Echo/Echo");
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

    EchoService service;
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
