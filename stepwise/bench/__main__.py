"""`python -m stepwise.bench`: the benchmark, or one of its workers (`--worker`)."""

from __future__ import annotations

import sys

from stepwise.bench.run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
