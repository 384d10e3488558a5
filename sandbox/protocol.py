"""Length-prefixed frames between the pool and its workers (and workers and children).

A frame is a 4-byte big-endian length and that many bytes. Only JSON travels in frames;
nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

_HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30
# Bytes per read from a pipe: a pipe holds 64 KiB, and a larger buffer would come from mmap
# (map, shrink, unmap and fresh pages on every read).
READ_SIZE = 1 << 16
# On the worker's Unix socket, in plain structs (the worker sends one right after each fork,
# when every page it writes costs a copy): the pool asks for the next child, naming the
# previous one for the worker to reap (0: none); the worker hands over a child as its pid and
# the worker's version, with its job pipe, its result pipe and a pidfd attached.
SPARE_REQUEST = struct.Struct("<i")
SPARE_HANDOVER = struct.Struct("<ii")
HANDOVER_FDS = struct.Struct("<3i")


def encode_frame(data: bytes) -> bytes:
    return _HEADER.pack(len(data)) + data


def encode_json(obj: Any) -> bytes:
    return encode_frame(json.dumps(obj).encode())


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes:
    """Blocking read of exactly ``size`` bytes; raises EOFError on a closed pipe."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes:
    (size,) = _HEADER.unpack(read_exact(fd, _HEADER.size))
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    return read_exact(fd, size)


class FrameBuffer:
    """Incremental frame parser for non-blocking reads."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._data = bytearray()
        self._max_frame = max_frame

    def feed(self, chunk: bytes) -> list[bytes]:
        self._data += chunk
        frames = []
        while len(self._data) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._data)
            if size > self._max_frame:
                raise ValueError(f"frame of {size} bytes is too large")
            end = _HEADER.size + size
            if len(self._data) < end:
                break
            frames.append(bytes(self._data[_HEADER.size : end]))
            del self._data[:end]
        return frames

    @property
    def pending(self) -> int:
        return len(self._data)
