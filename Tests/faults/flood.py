"""A create flood from several grpcio client threads, each on its own channel, recording every event it sent and
how its call ended, so a test can compare what was acknowledged with what the database holds."""
import itertools
import threading
import time
import uuid

import grpc

from harness import channel, event

# Mostly unpaged creates with some P0/P1 (critical/high) ones, which each enqueue a PagerDuty trigger.
DEFAULT_MIX = ("medium", "low", "medium", "high", "low", "info", "critical", "medium")


class Outcome:
    """One create: the event sent and how the call ended (code name, incident id and position when OK)."""

    __slots__ = ("event_id", "severity", "code", "incident_id", "position", "duplicate", "started", "ended")

    def __init__(self, event_id, severity):
        self.event_id, self.severity = event_id, severity
        self.started, self.ended = time.monotonic(), None
        self.code, self.incident_id, self.position, self.duplicate = "IN_FLIGHT", None, None, None


class Flood:
    """`threads` clients creating incidents back to back, each call with `deadline` seconds, until stopped or
    `max_calls` calls have been made in all (both bound the flood)."""

    def __init__(self, api, port_of, pki, threads=8, deadline=5.0, mix=DEFAULT_MIX, max_calls=200_000,
                 pause_after_error=0.02):
        self.pb2, self.pb2_grpc = api
        self.port_of, self.pki, self.deadline, self.mix = port_of, pki, deadline, mix
        self.pause_after_error = pause_after_error
        self.outcomes = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.budget = itertools.count()
        self.max_calls = max_calls
        self.workers = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)]

    def start(self):
        for worker in self.workers:
            worker.start()
        return self

    def stop(self, timeout=60):
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout)
        assert not any(worker.is_alive() for worker in self.workers), "a flood client hung past its deadline"

    def _run(self, number):
        port = None
        stub = None
        sequence = itertools.count()
        while not self.stopping.is_set() and next(self.budget) < self.max_calls:
            # A restarted server listens on another port: clients follow it, as a load balancer would.
            if port != self.port_of():
                port = self.port_of()
                stub = self.pb2_grpc.IncidentServiceStub(channel(port, self.pki, "llm-shield"))
            severity = self.mix[next(sequence) % len(self.mix)]
            outcome = Outcome(f"flood-{number}-{uuid.uuid4().hex}", severity)
            with self.lock:
                self.outcomes.append(outcome)
            try:
                answer = stub.CreateIncident(event(self.pb2, severity, outcome.event_id), timeout=self.deadline)
                outcome.incident_id, outcome.position = answer.incident_id, answer.position
                outcome.duplicate = answer.duplicate
                outcome.code = "OK"
                outcome.ended = time.monotonic()
            except grpc.RpcError as error:
                outcome.code = error.code().name
                outcome.ended = time.monotonic()
                time.sleep(self.pause_after_error)

    def acknowledged(self):
        with self.lock:
            return [o for o in self.outcomes if o.code == "OK"]

    def codes(self):
        counts = {}
        with self.lock:
            for o in self.outcomes:
                counts[o.code] = counts.get(o.code, 0) + 1
        return counts

    def wait_for_acks(self, count, timeout):
        deadline = time.monotonic() + timeout
        while len(self.acknowledged()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.acknowledged())
