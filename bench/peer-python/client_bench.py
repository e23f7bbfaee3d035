#!/usr/bin/env python3
"""Python `atproto` peer for bench/client/compare.

The same calls as atdata's `client_workload` bench, through the SDK as its users
call it: log in (not timed), make --warmup calls, then time --calls calls with
--concurrency in flight and print one JSON line with the wall time and the CPU
time of this process (time.process_time: every thread).

Contenders:
  sync   `atproto.Client`; --concurrency > 1 shares it between that many threads
         (httpx.Client is thread-safe).
  async  `atproto.AsyncClient`; that many tasks on one asyncio loop.

Calls (the namespaced form, as in the SDK's docs):
  get     client.com.atproto.repo.get_record({...}) of one app.bsky.feed.post
  create  client.com.atproto.repo.create_record({...}) of a new post
"""

import argparse
import asyncio
import importlib.metadata
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from atproto import AsyncClient, Client, models


def parse_uri(uri):
    # at://<repo>/<collection>/<rkey>
    repo, collection, rkey = uri[len("at://"):].split("/")
    return repo, collection, rkey


def post_record(client, n):
    return models.AppBskyFeedPost.Record(
        text=f"client bench post {n}", created_at=client.get_current_time_iso()
    )


class Work:
    """Hands out call numbers to the call slots and collects latencies."""

    def __init__(self, calls):
        self.calls = calls
        self.next = 0
        self.lock = threading.Lock()
        self.latencies = []

    def take(self):
        with self.lock:
            n = self.next
            self.next += 1
        return n if n < self.calls else None

    def record(self, latencies):
        with self.lock:
            self.latencies.extend(latencies)


def sync_call(client, args, did, n):
    repo, collection, rkey = parse_uri(args.uri)
    if args.op == "get":
        return client.com.atproto.repo.get_record(
            {"repo": repo, "collection": collection, "rkey": rkey}
        )
    return client.com.atproto.repo.create_record(
        {"repo": did, "collection": "app.bsky.feed.post", "record": post_record(client, n)}
    )


def sync_phase(client, args, did, calls):
    work = Work(calls)

    def slot():
        latencies = []
        while (n := work.take()) is not None:
            started = time.perf_counter()
            sync_call(client, args, did, n)
            latencies.append(time.perf_counter() - started)
        work.record(latencies)

    if args.concurrency == 1:
        slot()
    else:
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for future in [pool.submit(slot) for _ in range(args.concurrency)]:
                future.result()
    return work.latencies


def run_sync(args):
    client = Client(base_url=args.pds)
    # The local PDS has no AppView behind it: skip the profile lookup after login.
    client.login(args.handle, args.password, fetch_bsky_profile=False)
    did = parse_uri(args.uri)[0]  # the bench account wrote the post it reads
    sync_phase(client, args, did, args.warmup)
    cpu, wall = time.process_time(), time.perf_counter()
    latencies = sync_phase(client, args, did, args.calls)
    return time.perf_counter() - wall, time.process_time() - cpu, latencies


async def async_call(client, args, did, n):
    repo, collection, rkey = parse_uri(args.uri)
    if args.op == "get":
        return await client.com.atproto.repo.get_record(
            {"repo": repo, "collection": collection, "rkey": rkey}
        )
    return await client.com.atproto.repo.create_record(
        {"repo": did, "collection": "app.bsky.feed.post", "record": post_record(client, n)}
    )


async def async_phase(client, args, did, calls):
    work = Work(calls)

    async def slot():
        latencies = []
        while (n := work.take()) is not None:
            started = time.perf_counter()
            await async_call(client, args, did, n)
            latencies.append(time.perf_counter() - started)
        work.record(latencies)

    await asyncio.gather(*(slot() for _ in range(args.concurrency)))
    return work.latencies


async def run_async(args):
    client = AsyncClient(base_url=args.pds)
    await client.login(args.handle, args.password, fetch_bsky_profile=False)
    did = parse_uri(args.uri)[0]
    await async_phase(client, args, did, args.warmup)
    cpu, wall = time.process_time(), time.perf_counter()
    latencies = await async_phase(client, args, did, args.calls)
    return time.perf_counter() - wall, time.process_time() - cpu, latencies


def percentile(values, p):
    values = sorted(values)
    return values[round((len(values) - 1) * p)] * 1000.0 if values else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pds", required=True)
    parser.add_argument("--handle", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--uri", required=True, help="the post the get calls read")
    parser.add_argument("--contender", choices=["sync", "async"], required=True)
    parser.add_argument("--op", choices=["get", "create"], required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    if args.contender == "sync":
        wall, cpu, latencies = run_sync(args)
    else:
        wall, cpu, latencies = asyncio.run(run_async(args))
    print(json.dumps({
        "lib": f"python-atproto {importlib.metadata.version('atproto')}",
        "contender": args.contender,
        "op": "getRecord" if args.op == "get" else "createRecord",
        "concurrency": args.concurrency,
        "calls": args.calls,
        "wall_s": wall,
        "calls_per_s": args.calls / wall,
        "cpu_s": cpu,
        "cpu_us_per_call": cpu * 1e6 / args.calls,
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p99_ms": percentile(latencies, 0.99),
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
