"""Profile one B4 burst over the whole server process: `python -m benchmarks.profile_burst [N]`.

Starts our server under cProfile (SQLite store, the B4 script), sends a warm-up and then N
streams at once (300 by default), stops the server and prints the functions with the most
cumulative and own time: the per-stream set-up as well as the per-delta path.
"""

from __future__ import annotations

import pstats
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Server, run_async, write_script
from benchmarks.http_streams import B4_DELAY, B4_DELTAS, B4_STREAMS, burst


def main() -> None:
    """Profile one burst and print the top of the profile."""
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else B4_STREAMS
    with tempfile.TemporaryDirectory(prefix="bench_profile_") as tmp:
        directory = Path(tmp)
        script = write_script(directory / "script.json", streams + 4, B4_DELTAS, B4_DELAY)
        stats = directory / "server.prof"
        kind = ["chatkit", "--store", str(directory / "chatkit.db"), "--model-script", str(script)]
        with Server(*kind, "--profile", str(stats)) as server:
            run_async(burst(server.port, "/chatkit", 4, B4_DELTAS))
            print(run_async(burst(server.port, "/chatkit", streams, B4_DELTAS)))
        profile = pstats.Stats(str(stats))
        profile.sort_stats("cumulative").print_stats(45)
        profile.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
