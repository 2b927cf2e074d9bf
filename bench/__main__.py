"""Run the benchmarks: `python -m bench` runs all of them, `python -m bench NAME ... [FLAGS]` some.

FLAGS (everything from the first argument that starts with "-") go to each named benchmark:
`python -m bench changes --full`, `python -m bench throughput --pages 10000 --no-write`.
"""

from __future__ import annotations

import importlib
import inspect
import sys

BENCHES = ("extraction", "changes", "throughput", "scaling", "profile")


def main(argv: list[str]) -> int:
    first_flag = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, flags = argv[:first_flag] or list(BENCHES), argv[first_flag:]
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
        # Every benchmark but extraction (which has no flags) takes them.
        if "argv" in inspect.signature(module.main).parameters:
            module.main(flags)
        else:
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
