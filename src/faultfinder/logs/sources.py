"""Where log bytes come from: files (gzip or not, told by their first bytes), stdin, and a file
that is still growing (``--follow``). Each yields blocks of raw bytes; a damaged source ends
with a warning instead of an error, and what was read before the damage is still scanned.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, cast

from faultfinder.errors import UsageError

BLOCK = 1 << 20
STDIN = "-"
_GZIP_MAGIC = b"\x1f\x8b"
# What a damaged compressed stream raises: truncated (EOFError), not gzip, corrupt data.
_DAMAGED = (EOFError, gzip.BadGzipFile, zlib.error)


def display_name(name: str) -> str:
    return "<stdin>" if name == STDIN else name


@contextlib.contextmanager
def open_source(name: str) -> Iterator[BinaryIO]:
    """The source's bytes, decompressed when it is gzip; a source that cannot be opened is the
    caller's mistake (exit 2)."""
    try:
        raw: BinaryIO = sys.stdin.buffer if name == STDIN else open(name, "rb")  # noqa: SIM115
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    # peek needs a buffered reader; stdin replaced by something else (a test's pipe) is wrapped
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    try:
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=buffered, mode="rb") as decompressed:
                yield cast(BinaryIO, decompressed)
        else:
            yield buffered
    finally:
        if name != STDIN:
            buffered.close()


def read_blocks(stream: BinaryIO, name: str, warnings: list[str]) -> Iterator[bytes]:
    """The stream in blocks as they arrive (a pipe's data is not held back to fill a block)."""
    read = getattr(stream, "read1", stream.read)
    while True:
        try:
            data = read(BLOCK)
        except (*_DAMAGED, OSError) as error:
            warnings.append(f"{display_name(name)}: {_damage(error)}; scanned what came before it")
            return
        if not data:
            return
        yield data


def follow_blocks(
    name: str, warnings: list[str], stop: Callable[[], bool], poll: float = 0.2
) -> Iterator[bytes]:
    """The file from its start, then what is appended to it, until ``stop()`` says so.

    A file that is rotated (a new file under the name) or truncated (copytruncate) is read again
    from its start, as ``tail -F`` does.
    """
    if name == STDIN:  # a pipe follows by itself: read it to its end
        with open_source(name) as stream:
            yield from read_blocks(stream, name, warnings)
        return
    try:
        stream = open(name, "rb", buffering=0)  # noqa: SIM115
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        if stream.read(2) == _GZIP_MAGIC:
            raise UsageError(f"cannot follow {name}: it is compressed")
        stream.seek(0)
        while not stop():
            data = stream.read(BLOCK)
            if data:
                yield data
                continue
            if _replaced(name, stream):
                stream.close()
                stream = open(name, "rb", buffering=0)  # noqa: SIM115
                continue
            time.sleep(poll)
    finally:
        stream.close()


def _replaced(name: str, stream: io.FileIO) -> bool:
    try:
        current = os.stat(name)
    except OSError:
        return False  # gone for now: keep what is open, the writer may recreate it
    opened = os.fstat(stream.fileno())
    return current.st_ino != opened.st_ino or current.st_size < stream.tell()


def _damage(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the compressed stream ends early (truncated gzip)"
    if isinstance(error, gzip.BadGzipFile | zlib.error):
        return f"the compressed stream is damaged ({error})"
    return f"read failed ({getattr(error, 'strerror', None) or error})"
