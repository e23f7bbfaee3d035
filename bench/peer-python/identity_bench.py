"""The Python SDK's AsyncIdResolver on the same lookups as atdata-identity's plc_lookups bench.

Reads the lookup order (one DID per line) that the Rust bench wrote, resolves each DID's
atproto signing key through `AsyncIdResolver(plc_url, cache=AsyncDidInMemoryCache())` with
F lookups in flight (an asyncio semaphore), counts the HTTP requests the resolver sent (by
wrapping its PLC fetch), and prints one JSON line like the Rust side's.
"""

import argparse
import asyncio
import json
import time

from atproto import AsyncIdResolver
from atproto_identity.cache.in_memory_cache import AsyncDidInMemoryCache
from atproto_identity.did.resolvers import plc_resolver


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plc", required=True)
    parser.add_argument("--dids-file", required=True)
    parser.add_argument("--in-flight", type=int, default=64)
    args = parser.parse_args()
    with open(args.dids_file) as f:
        order = [line.strip() for line in f if line.strip()]

    requests = 0
    original = plc_resolver.AsyncDidPlcResolver.resolve_without_validation

    async def counted(self, did):
        nonlocal requests
        requests += 1
        return await original(self, did)

    plc_resolver.AsyncDidPlcResolver.resolve_without_validation = counted

    resolver = AsyncIdResolver(plc_url=args.plc, cache=AsyncDidInMemoryCache())
    slots = asyncio.Semaphore(args.in_flight)
    failures = 0

    async def one(did: str) -> None:
        nonlocal failures
        async with slots:
            try:
                key = await resolver.did.resolve_atproto_key(did)
                if not key:
                    failures += 1
            except Exception:  # noqa: BLE001 - counted, as the Rust side counts failures
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(did) for did in order))
    seconds = time.perf_counter() - started
    print(json.dumps({
        "contender": "python atproto AsyncIdResolver",
        "lookups": len(order),
        "dids": len(set(order)),
        "in_flight": args.in_flight,
        "seconds": seconds,
        "lookups_per_s": len(order) / seconds,
        "requests": requests,
        "failures": failures,
    }))


asyncio.run(main())
