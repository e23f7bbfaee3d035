"""The Python SDK on the firehose workload of bench/firehose/compare.

Reads a frame file (4-byte big-endian lengths; zstd is unpacked first by the caller), then per
round: each frame through `atproto_subscription`'s `Frame.from_bytes` and
`atproto_firehose.parse_subscribe_repos_message`, and each commit's blocks through
`CAR.from_bytes` (which decodes every block; libipld does not check block hashes, so this
contender checks none: the table says so). Prints one JSON line.
"""

import argparse
import json
import statistics
import struct
import time

from atproto import CAR
from atproto_client.models.com.atproto.sync.subscribe_repos import Commit
from atproto_firehose import parse_subscribe_repos_message
from atproto_subscription.frames import Frame


def frames_of(data: bytes):
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        out.append(data[at + 4:at + 4 + n])
        at += 4 + n
    return out


def one_round(frames) -> int:
    records = 0
    for raw in frames:
        frame = Frame.from_bytes(raw)
        message = parse_subscribe_repos_message(frame)
        if isinstance(message, Commit):
            car = CAR.from_bytes(message.blocks)
            for op in message.ops:
                if op.cid is not None and op.cid in car.blocks:
                    records += 1
    return records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", required=True, help="an uncompressed frame file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with open(args.frames, "rb") as f:
        frames = frames_of(f.read())
    one_round(frames)  # warm-up
    times = []
    records = 0
    for _ in range(args.rounds):
        started = time.perf_counter()
        records = one_round(frames)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(json.dumps({
        "contender": "python atproto 0.0.73",
        "frames": len(frames),
        "records": records,
        "hashes_checked": False,
        "median_seconds": median,
        "frames_per_s": len(frames) / median,
    }))


main()
