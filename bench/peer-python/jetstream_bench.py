"""The Python SDK on the Jetstream workload of bench/jetstream/compare.

Reads the length-prefixed frame files that `jetstream_parse --write-frames DIR` writes (each
frame a 4-byte little-endian length, then the bytes), then per round parses every v2 frame
REPEAT times with `atproto_jetstream.models.parse_frame` and `parse_subscribe_events_message`;
the compressed variant first decompresses each frame with `ZstdDecompression` loaded with the
same dictionary (loaded once, outside timing). Prints one JSON line per variant: the median
round.
"""

import argparse
import json
import statistics
import struct
import time

from atproto_jetstream.compression import ZstdDecompression
from atproto_jetstream.models import MessageFrame, parse_frame, parse_subscribe_events_message

# The client's own limit (atproto_jetstream.client._MAX_MESSAGE_SIZE_BYTES).
MAX_MESSAGE = 32 * 1024 * 1024


def read_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack("<I", data[at:at + 4])
        out.append(data[at + 4:at + 4 + n])
        at += 4 + n
    return out


def parse(data):
    frame = parse_frame(data)
    if not isinstance(frame, MessageFrame):
        raise SystemExit(f"not a message frame: {frame}")
    return parse_subscribe_events_message(frame)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--dictionary", required=True)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    plain = read_frames(f"{args.dir}/v2.frames")
    compressed = read_frames(f"{args.dir}/v2-zstd.frames")
    zstd = ZstdDecompression(MAX_MESSAGE)
    with open(args.dictionary, "rb") as f:
        zstd.load(f.read())

    def v2():
        for frame in plain:
            parse(frame)

    def v2_zstd():
        decompress = zstd.decompress
        for frame in compressed:
            parse(decompress(frame))

    for variant, one_pass in (("v2", v2), ("v2-zstd", v2_zstd)):
        one_pass()  # warm-up
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for _ in range(args.repeat):
                one_pass()
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        events = len(plain) * args.repeat
        print(json.dumps({
            "contender": "python atproto",
            "variant": variant,
            "events": events,
            "median_seconds": median,
            "events_per_s": events / median,
        }), flush=True)


if __name__ == "__main__":
    main()
