"""Python grpcio (a client we did not write, on BoringSSL) against our Swift server over mutual TLS."""
import signal
import threading

import grpc
import pytest

from conftest import RunningServer

TIMEOUT = 30


def channel_for(server, pki, cert=None, key=None, roots="ca.pem"):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(pki / roots).read_bytes(),
        private_key=(pki / key).read_bytes() if key else None,
        certificate_chain=(pki / cert).read_bytes() if cert else None,
    )
    return grpc.secure_channel(f"127.0.0.1:{server.port}", credentials)


def unary(channel, path):
    return channel.unary_unary(path, request_serializer=None, response_deserializer=None)


def test_unary_echo_with_mtls(server, pki):
    with channel_for(server, pki, "client.pem", "client.key") as channel:
        payload = bytes(range(256)) * 40
        assert unary(channel, "/interop.Echo/Echo")(payload, timeout=TIMEOUT) == payload


def test_peer_identity_seen_by_server(server, pki):
    with channel_for(server, pki, "client.pem", "client.key") as channel:
        assert unary(channel, "/interop.Echo/Peer")(b"", timeout=TIMEOUT) == b"llm-shield"


def test_server_streaming_with_mtls(server, pki):
    with channel_for(server, pki, "client.pem", "client.key") as channel:
        stream = channel.unary_stream("/interop.Echo/Count")
        assert [m.decode() for m in stream(b"100", timeout=TIMEOUT)] == [str(i) for i in range(1, 101)]


def test_client_streaming_with_mtls(server, pki):
    with channel_for(server, pki, "client.pem", "client.key") as channel:
        numbers = (str(i).encode() for i in range(1, 1001))
        total = channel.stream_unary("/interop.Echo/Sum")(numbers, timeout=TIMEOUT)
        assert total == b"500500"
        assert channel.stream_unary("/interop.Echo/Sum")(iter([]), timeout=TIMEOUT) == b"0"


def test_bidirectional_streaming_answers_each_request_as_it_arrives(server, pki):
    """Each request is sent only after the answer to the previous one arrived: no buffering until half-close."""
    import queue

    with channel_for(server, pki, "client.pem", "client.key") as channel:
        turns = queue.Queue()

        def requests():
            for index in range(50):
                yield str(index).encode()
                assert turns.get(timeout=TIMEOUT) == index

        answers = []
        for index, answer in enumerate(channel.stream_stream("/interop.Echo/Chat")(requests(), timeout=TIMEOUT)):
            answers.append(answer)
            turns.put(index)
        assert answers == [f"echo:{i}".encode() for i in range(50)]


def test_unknown_method_is_unimplemented(server, pki):
    with channel_for(server, pki, "client.pem", "client.key") as channel:
        with pytest.raises(grpc.RpcError) as failure:
            unary(channel, "/interop.Echo/Nope")(b"x", timeout=TIMEOUT)
        assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("cert,key", [(None, None), ("client2.pem", "client2.key"), ("expired.pem", "expired.key")],
                         ids=["no-client-certificate", "wrong-ca", "expired"])
def test_refused_clients_fail_unary_and_stream(server, pki, cert, key):
    with channel_for(server, pki, cert, key) as channel:
        with pytest.raises(grpc.RpcError) as failure:
            unary(channel, "/interop.Echo/Echo")(b"x", timeout=TIMEOUT)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as stream_failure:
            list(channel.unary_stream("/interop.Echo/Count")(b"3", timeout=TIMEOUT))
        assert stream_failure.value.code() == grpc.StatusCode.UNAVAILABLE


def test_sighup_reloads_without_stopping(fresh_server, pki):
    fresh_server.process.send_signal(signal.SIGHUP)
    with channel_for(fresh_server, pki, "client.pem", "client.key") as channel:
        assert unary(channel, "/interop.Echo/Echo")(b"after-hup", timeout=TIMEOUT) == b"after-hup"
    assert fresh_server.process.poll() is None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_ends_streams_with_unavailable_and_exits_cleanly(fresh_server, pki, sig):
    with channel_for(fresh_server, pki, "client.pem", "client.key") as channel:
        stream = channel.unary_stream("/interop.Echo/Count")(b"100000000", timeout=TIMEOUT)
        first = next(stream)
        assert first == b"1"
        outcome = {}

        def drain():
            try:
                for _ in stream:
                    pass
                outcome["code"] = grpc.StatusCode.OK
            except grpc.RpcError as error:
                outcome["code"] = error.code()

        reader = threading.Thread(target=drain)
        reader.start()
        assert fresh_server.stop(sig=sig) == 0
        reader.join(TIMEOUT)
        assert outcome.get("code") == grpc.StatusCode.UNAVAILABLE


def test_a_handler_failure_is_internal_and_its_text_reaches_neither_client_nor_log(pki, tmp_path):
    secret = "password=hunter2 card 4111111111111111"
    log_path = tmp_path / "server.stderr"
    with open(log_path, "w") as log:
        running = RunningServer(pki, stderr=log)
        try:
            channel = channel_for(running, pki, cert="client.pem", key="client.key")
            with pytest.raises(grpc.RpcError) as failed:
                unary(channel, "/interop.Echo/Fail")(secret.encode(), timeout=TIMEOUT)
            assert failed.value.code() == grpc.StatusCode.INTERNAL
            assert failed.value.details() == "internal error"
            # The server is still serving.
            assert unary(channel, "/interop.Echo/Echo")(b"ok", timeout=TIMEOUT) == b"ok"
        finally:
            assert running.stop() == 0
    text = log_path.read_text()
    assert "handler failed (answered INTERNAL)" in text and "/interop.Echo/Fail" in text and "LeakyFailure" in text
    assert "hunter2" not in text and "4111111111111111" not in text
