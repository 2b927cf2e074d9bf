"""Run the benchmarks: `python -m bench` runs all of them, `python -m bench NAME ... [--full]` some."""

from __future__ import annotations

import importlib
import sys

BENCHES = ("extraction", "changes", "throughput", "scaling")


def main(argv: list[str]) -> int:
    # Flags stay in sys.argv for the benchmark that reads them (`python -m bench changes --full`).
    names = [a for a in argv if not a.startswith("-")] or list(BENCHES)
    for name in names:
        if name not in BENCHES:
            print(f"bench: unknown benchmark {name!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
            return 2
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"bench: {name} is not written yet, skipped", file=sys.stderr)
                continue
            raise
        print(f"== bench {name}", file=sys.stderr)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
