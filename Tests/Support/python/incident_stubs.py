"""grpcio stubs for the service, compiled from Protos/ at test time with grpcio-tools' protoc: shared by the e2e
and fault suites and the stream-memory benchmark, so every Python client speaks the protos in this checkout."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]


def compile_incident_stubs(out: pathlib.Path):
    """Compiles incident_manager.proto into `out`, puts it on sys.path and returns (pb2, pb2_grpc)."""
    from grpc_tools import protoc
    import grpc_tools

    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    status = protoc.main([
        "protoc", f"-I{ROOT / 'Protos'}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}",
        "incident_manager.proto", "incident_types.proto",
    ])
    assert status == 0, "protoc failed on Protos/"
    sys.path.insert(0, str(out))
    import incident_manager_pb2
    import incident_manager_pb2_grpc
    return incident_manager_pb2, incident_manager_pb2_grpc
