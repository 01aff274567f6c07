#!/usr/bin/env python3
"""load.py's pg-restart scenario, printing the tracebacks gunicorn logged (what a 500 came from).

    .venv/bin/python benchmarks/perf_pg_restart.py --users 50 --seconds 20
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402

_stop = load.Gunicorn.stop


def stop_and_show(self):
    _stop(self)
    lines = self.log_path.read_text().splitlines()
    tracebacks = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    print(f"  gunicorn log: {len(tracebacks)} tracebacks")
    for start in tracebacks[:3]:
        print("\n".join(lines[max(0, start - 2):start + 60]))


load.Gunicorn.stop = stop_and_show
if __name__ == "__main__":
    sys.argv[1:1] = ["--scenario", "pg-restart"]
    sys.exit(load.main())
