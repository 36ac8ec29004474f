"""The fake's D-Bus connection: noticing it close, and surviving a full socket."""

from collections.abc import Awaitable, Callable
from typing import Any

from dbus_fast.aio import MessageBus


def disconnected(bus: MessageBus) -> Awaitable[None]:
    """``bus.wait_for_disconnect()`` with its type (dbus-fast leaves it unannotated)."""
    wait: Callable[[], Awaitable[None]] = bus.wait_for_disconnect
    return wait()


class _FullSocketTolerant:
    """The bus socket as dbus-fast's writer sees it, with a full send buffer reported as
    "0 bytes written" (then it waits until writable) instead of ``BlockingIOError``, which
    dbus-fast's asyncio writer takes for a dead connection (dbus-next issue 153). A fake
    that streams fast on a busy host fills its socket; that must delay, not kill, it."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def send(self, data: Any) -> int:
        try:
            return int(self._sock.send(data))
        except BlockingIOError:
            return 0

    def sendmsg(self, buffers: Any, ancdata: Any = ()) -> int:
        try:
            return int(self._sock.sendmsg(buffers, ancdata))
        except BlockingIOError:
            return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def survive_full_socket(bus: MessageBus) -> None:
    writer = getattr(bus, "_writer", None)
    if writer is not None and hasattr(writer, "sock"):
        writer.sock = _FullSocketTolerant(writer.sock)
