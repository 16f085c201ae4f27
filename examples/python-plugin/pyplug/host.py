"""Clients of the services the host offers in Initialize: ATSStoreService and QueueService.

Endpoints are `host:port` without a scheme; an empty one means "not offered". Initialize can
come again (the host re-initializes after a config change), so `configure` replaces the
channels. Errors of the host travel in the response body (`success: false`, `error`).
"""
import threading

import grpc

import atsstore_pb2_grpc
import queue_pb2_grpc

# Deadline of each call to the host.
CALL_TIMEOUT_S = 10.0


class HostServices:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels = []
        self.token = ""
        self.ats_endpoint = ""
        self.queue_endpoint = ""
        self.ats = None  # atsstore_pb2_grpc.ATSStoreServiceStub, when offered
        self.queue = None  # queue_pb2_grpc.QueueServiceStub, when offered

    def configure(self, ats_endpoint: str, queue_endpoint: str, token: str) -> None:
        with self._lock:
            old = self._channels
            self._channels = []
            channels = {}

            def channel(endpoint):
                # One server may serve several services: one channel per distinct address.
                if endpoint not in channels:
                    channels[endpoint] = grpc.insecure_channel(endpoint)
                    self._channels.append(channels[endpoint])
                return channels[endpoint]

            self.token = token
            self.ats_endpoint = ats_endpoint
            self.queue_endpoint = queue_endpoint
            self.ats = atsstore_pb2_grpc.ATSStoreServiceStub(channel(ats_endpoint)) if ats_endpoint else None
            self.queue = queue_pb2_grpc.QueueServiceStub(channel(queue_endpoint)) if queue_endpoint else None
        for ch in old:
            ch.close()

    def close(self) -> None:
        with self._lock:
            old, self._channels = self._channels, []
            self.ats = self.queue = None
        for ch in old:
            ch.close()
