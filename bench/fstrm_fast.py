#!/usr/bin/env python3
"""A Frame Streams sender and sink for the benchmarks, fast enough not to be
what is measured.

  fstrm_fast.py send SOCK FILE   replays the data frames of the Frame
                                 Streams file FILE into the Unix socket SOCK:
                                 the bidirectional handshake (READY with
                                 protobuf:dnstap.Dnstap, ACCEPT, START), the
                                 data frames exactly as they are in FILE, in
                                 writes of 1 MiB, then STOP, and waits for
                                 FINISH. Prints "EPOCH SECONDS FRAMES": the
                                 wall clock (Unix time) when it connected,
                                 and the time from connecting to FINISH.
  fstrm_fast.py sink SOCK        listens on SOCK, takes one sender through the
                                 handshake, reads everything into a 1 MiB
                                 buffer and throws it away, answers STOP with
                                 FINISH and exits: what the sender reaches when
                                 the reader costs nothing.

fstrm_replay (fstrm-bin) writes each frame with its own small write through
libfstrm's queue and I/O thread, so it spends more per frame than a fast
collector does; this sender reads FILE into memory first and hands the
kernel 1 MiB at a time. The sink finds STOP as the last 12 bytes of a read
(a data frame cannot end in them at a read boundary: its length field would
have to be 0).
"""

import os
import socket
import struct
import sys
import time

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
READY, ACCEPT, START, STOP, FINISH = 4, 1, 2, 3, 5
CHUNK = 1 << 20


def control(kind, content_type=None):
    body = struct.pack(">I", kind)
    if content_type is not None:
        body += struct.pack(">II", 1, len(content_type)) + content_type
    return struct.pack(">II", 0, len(body)) + body


def read_control(sock):
    """Reads one control frame; returns its type."""
    head = recv_exact(sock, 8)
    escape, length = struct.unpack(">II", head)
    if escape != 0 or length < 4 or length > 512:
        raise SystemExit("fstrm_fast: not a control frame: %r" % head)
    body = recv_exact(sock, length)
    return struct.unpack_from(">I", body)[0]


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        got = sock.recv(n - len(data))
        if not got:
            raise SystemExit("fstrm_fast: connection closed")
        data += got
    return data


def data_frames(path):
    """The bytes of FILE's data frames, contiguous, and how many there are."""
    data = open(path, "rb").read()
    pos, frames, first, last = 0, 0, None, None
    while pos + 4 <= len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        if n == 0:
            (c,) = struct.unpack_from(">I", data, pos + 4)
            pos += 8 + c
            if first is not None and last is None:
                last = pos - 8 - c
        else:
            if first is None:
                first = pos
            elif last is not None:
                raise SystemExit("fstrm_fast: control frames between data frames in %s" % path)
            pos += 4 + n
            frames += 1
    if first is None:
        raise SystemExit("fstrm_fast: no data frame in %s" % path)
    return memoryview(data)[first : (last if last is not None else pos)], frames


def send(sock_path, path):
    payload, frames = data_frames(path)
    began = time.time()
    start = time.perf_counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(control(READY, CONTENT_TYPE))
    if read_control(s) != ACCEPT:
        raise SystemExit("fstrm_fast: no ACCEPT")
    s.sendall(control(START, CONTENT_TYPE))
    for at in range(0, len(payload), CHUNK):
        s.sendall(payload[at : at + CHUNK])
    s.sendall(control(STOP))
    if read_control(s) != FINISH:
        raise SystemExit("fstrm_fast: no FINISH")
    end = time.perf_counter()
    s.close()
    print("%.6f %.4f %d" % (began, end - start, frames))


def sink(sock_path):
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(1)
    s, _ = listener.accept()
    if read_control(s) != READY:
        raise SystemExit("fstrm_fast: no READY")
    s.sendall(control(ACCEPT, CONTENT_TYPE))
    if read_control(s) != START:
        raise SystemExit("fstrm_fast: no START")
    buf = bytearray(CHUNK)
    stop = control(STOP)
    tail = b""
    while True:
        n = s.recv_into(buf)
        if n == 0:
            raise SystemExit("fstrm_fast: closed before STOP")
        tail = (tail + bytes(buf[max(0, n - 12) : n]))[-12:]
        if tail == stop:
            break
    s.sendall(control(FINISH))
    s.close()
    listener.close()
    os.unlink(sock_path)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "sink":
        sink(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
