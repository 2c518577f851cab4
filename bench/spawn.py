"""Run one command from a small process and record its wall time and peak RSS.

    python -I -S bench/spawn.py RESULT.json COMMAND [ARG ...]

On Linux a program's peak RSS (``ru_maxrss``) starts from the peak of the process image its
exec replaced. A child spawned straight from the benchmark, which holds whole maps in memory,
would report the benchmark's size instead of its own; spawned from this launcher (standard
library only, a few MiB), it reports its own. The wall time runs from spawn to exit, so the
launcher's own start-up is not in it.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    result, command = argv[1], argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawn(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall_s = time.perf_counter() - started
    with open(result, "w") as out:
        json.dump(
            {
                "wall_s": wall_s,
                "peak_rss_kib": usage.ru_maxrss,
                "exit_code": os.waitstatus_to_exitcode(status),
            },
            out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
