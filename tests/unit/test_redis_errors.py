"""The Redis prober's reading of its client's errors, for the wordings a real reset produces."""

from __future__ import annotations

import pytest

from faultfinder.probe.redis import classify_error


@pytest.mark.parametrize(
    "error",
    [
        # asyncio's transport, writing after the peer's RST
        ConnectionResetError("Connection lost"),
        # uvloop's transport, the same race (seen in tests/integration/test_tcp.py's reset test)
        RuntimeError(
            "unable to perform operation on <TCPTransport closed=True reading=False "
            "0x7f0c2c1d4e40>; the handler is closed"
        ),
    ],
)
def test_a_write_after_the_peer_reset_is_tcp_reset(error: Exception) -> None:
    finding = classify_error("127.0.0.1:6379", error)
    assert finding is not None
    assert finding.code == "tcp.reset"
    assert "after the TCP connect" in finding.evidence


def test_another_runtime_error_is_not_a_reset() -> None:
    assert classify_error("127.0.0.1:6379", RuntimeError("something else")) is None
