#!/bin/sh
# Builds the seed corpora of the fuzz targets from the traces in
# tests/fixtures/corpus: fuzz/corpus/<target>/ (git-ignored, rebuilt at will).
# Needs python3 (standard library only) to pull the DNS messages out of the
# dnstap protobuf payloads. Usage: fuzz/seed.sh   (from anywhere)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../tests/fixtures/corpus"
out="$here/corpus"
mkdir -p "$out/tap_reader" "$out/event_payload" "$out/render_message" \
    "$out/render_item" "$out/cli_parse"

python3 - "$fixtures" "$out" <<'PY'
import os, struct, sys

fixtures, out = sys.argv[1], sys.argv[2]

def frames(data):
    """Data frame payloads of a Frame Streams file (stops at damage)."""
    at = 0
    while at + 4 <= len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        if n == 0:
            if at + 8 > len(data):
                return
            (c,) = struct.unpack(">I", data[at + 4:at + 8])
            at += 8 + c
            continue
        if at + 4 + n > len(data):
            return
        yield data[at + 4:at + 4 + n]
        at += 4 + n

def varint(b, i):
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return v, i

def fields(b):
    """(field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            return
        yield num, wt, v

def write(target, name, blob):
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(blob)

for fname in sorted(os.listdir(fixtures)):
    if not fname.endswith(".fstrm"):
        continue
    data = open(os.path.join(fixtures, fname), "rb").read()
    base = fname[:-len(".fstrm")]
    # limit (0 = default), read step (0 = whole), two display-option bytes.
    write("tap_reader", base, b"\0\0\0\0" + data)
    write("tap_reader", base + "-trickle-qr", b"\0\x05\x80\0" + data)
    for k, payload in enumerate(frames(data)):
        if k >= 6:
            break
        write("event_payload", f"{base}-{k}", payload)
        msgs = {}
        for num, wt, v in fields(payload):
            if num == 14 and wt == 2:  # Dnstap.message
                for mnum, mwt, mv in fields(v):
                    if mnum in (10, 14) and mwt == 2:  # query/response_message
                        msgs[mnum] = mv
        q, r = msgs.get(10, b""), msgs.get(14, b"")
        for tag, m in (("q", q), ("r", r)):
            if m:
                write("render_message", f"{base}-{k}{tag}", b"\0\0\x01\0" + m)
        if len(q) <= 255:
            # mtype byte 11 (STUB_RESPONSE after the -1 shift), UDP, v4
            # addresses with ports, times, default display, split at the
            # query's end.
            head = bytes([11, 1, 0x81, 0x82, 10, 11, 12, 0x80, 0, len(q), 0x23])
            write("render_item", f"{base}-{k}", head + q + r)

words = [
    b"@127.0.0.1\0-p\x005353\0www.qtap.test\0A\0+tcp",
    b"--read\0trace.fstrm\0+qr\0+ignore",
    b"-x\x00192.0.2.1\0+short\0+nocookie",
    b"example.com\0MX\0+dnssec\0+bufsize=4096\0b.example\0AAAA\0+notcp",
    b"@[::1]\0-6\0-t\0TXT\0-c\0CH\0-q\0version.bind\0+nsid\0+cookie=0011223344556677",
    b"--tap\0-\0--tap-type\0tool\0--timeout\x002\0--tries\x001\0example.",
    b"@https://dns.example/dns-query\0+https\0example.org\0HTTPS",
    b"+edns=0\0+noall\0+answer\0+retry=3\0+timeout=1\0.\0NS",
]
for k, w in enumerate(words):
    write("cli_parse", f"words-{k}", w)
PY
for t in tap_reader event_payload render_message render_item cli_parse; do
    printf '%s: %s seeds\n' "$t" "$(ls "$out/$t" | wc -l)"
done
