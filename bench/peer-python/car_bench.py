#!/usr/bin/env python3
"""Python `atproto` peer for bench/compare.

Same workload as atdata's `car_bench` example: the CAR file is loaded into
memory once, then each iteration parses the header and every block and decodes
every block into Python values. Prints one JSON line on stdout.

Variants:
  (default)   `CAR.from_bytes(data)`: the SDK as a user calls it. It decodes
              every block with libipld (Rust) but checks no hashes, so the
              output says "hash_check": false.
  --sha256    the same call, plus the SHA-256 check a careful user would add.
              The SDK returns decoded blocks keyed by CID, never the raw block
              bytes, so this variant walks the CAR framing itself in Python
              (zero-copy memoryview slices) to reach those bytes and checks
              hashlib.sha256(block) against the CID digest.
"""

import argparse
import gc
import hashlib
import importlib.metadata
import json
import statistics
import sys
import time

from atproto import CAR

SHA2_256 = 0x12


def read_varint(buf, pos):
    """Unsigned LEB128 varint at buf[pos]; returns (value, new_pos)."""
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError('overlong varint')


def check_hashes(data):
    """Walk the CAR framing and check every block's SHA-256; returns the block count."""
    view = memoryview(data)
    end = len(data)
    header_len, pos = read_varint(data, 0)
    pos += header_len
    blocks = 0
    while pos < end:
        section_len, pos = read_varint(data, pos)
        section_end = pos + section_len
        if section_end > end:
            raise ValueError('block section runs past the end of the file')
        # CIDv1 = version, codec, multihash code, digest length, digest.
        version, p = read_varint(data, pos)
        if version != 1:
            raise ValueError('only CIDv1 blocks are supported')
        _codec, p = read_varint(data, p)
        code, p = read_varint(data, p)
        digest_len, p = read_varint(data, p)
        if code != SHA2_256 or digest_len != 32:
            raise ValueError(f'block CID is not sha2-256 (code {code:#x})')
        digest = view[p : p + 32]
        if hashlib.sha256(view[p + 32 : section_end]).digest() != digest:
            raise ValueError(f'SHA-256 mismatch in block {blocks}')
        pos = section_end
        blocks += 1
    return blocks


def run_plain(data):
    return len(CAR.from_bytes(data).blocks)


def run_sha256(data):
    blocks = len(CAR.from_bytes(data).blocks)
    checked = check_hashes(data)
    if checked != blocks:
        # Only possible if the file repeats a block: the SDK keys blocks by CID.
        raise ValueError(f'{checked} block sections but {blocks} distinct blocks')
    return blocks


def version(dist):
    return importlib.metadata.version(dist)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('car')
    ap.add_argument('--iters', type=int, default=30)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--sha256', action='store_true', help='add per-block SHA-256 checks')
    args = ap.parse_args()
    if args.iters < 1:
        ap.error('--iters must be at least 1')

    with open(args.car, 'rb') as f:
        data = f.read()
    run = run_sha256 if args.sha256 else run_plain

    for _ in range(args.warmup):
        run(data)
    times = []
    blocks = 0
    for _ in range(args.iters):
        # The cyclic GC stays enabled (as in any real program), but each
        # iteration starts from a collected heap, outside the timing, just as
        # each Rust iteration starts with everything freed. Without this, a
        # full collection triggered by the previous iteration's garbage lands
        # inside a random later iteration and makes it 2-4x slower.
        gc.collect()
        start = time.perf_counter()
        blocks = run(data)
        times.append(time.perf_counter() - start)

    median = statistics.median(times)
    mb_s = lambda s: len(data) / s / 1e6  # noqa: E731
    if args.sha256:
        note = 'CAR.from_bytes + own Python CAR framing walk for hashlib.sha256 per block'
    else:
        note = 'CAR.from_bytes (libipld); the SDK checks no block hashes'
    out = {
        'name': 'python-atproto+sha256' if args.sha256 else 'python-atproto',
        'blocks': blocks,
        'bytes': len(data),
        'iters': args.iters,
        'median_s': median,
        'median_mb_s': round(mb_s(median), 2),
        'min_mb_s': round(mb_s(max(times)), 2),
        'max_mb_s': round(mb_s(min(times)), 2),
        'hash_check': args.sha256,
        'note': f'{note}; atproto {version("atproto")}, libipld {version("libipld")}, '
        f'Python {sys.version.split()[0]}',
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
