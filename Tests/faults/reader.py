"""A StreamIncidents reader that follows the server across restarts and outages, resuming from its last position,
so a test can check it got every change of the feed exactly once."""
import threading
import time

import grpc

from harness import channel


class Reader:
    """A viewer following StreamIncidents across server restarts, resuming from its last position."""

    def __init__(self, pb2, pb2_grpc, pki, port_of, since):
        self.pb2, self.pb2_grpc, self.pki, self.port_of = pb2, pb2_grpc, pki, port_of
        self.positions, self.since, self.target = [], since, None
        self.resumes, self.errors = 0, {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.monotonic() + 600
        channels = {}
        while time.monotonic() < deadline and not (self.target is not None and self.since >= self.target):
            port = self.port_of()
            if port not in channels:
                channels[port] = channel(port, self.pki, "viewer")
            stub = self.pb2_grpc.IncidentServiceStub(channels[port])
            # A short call deadline: a reader waiting at the end of the feed looks again at whether it is done.
            call = stub.StreamIncidents(self.pb2.StreamIncidentsRequest(since_position=self.since), timeout=5)
            self.resumes += 1
            try:
                for incident in call:
                    self.positions.append(incident.position)
                    self.since = incident.position
                    if self.target is not None and self.since >= self.target:
                        call.cancel()
                        break
            except grpc.RpcError as error:
                self.errors[error.code().name] = self.errors.get(error.code().name, 0) + 1
                if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                    time.sleep(0.1)
        for opened in channels.values():
            opened.close()

    def finish(self, target, timeout):
        self.target = target
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"a reader did not reach position {target} (at {self.since})"
