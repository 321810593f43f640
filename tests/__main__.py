"""`python3 -m tests`: the whole test suite, on a machine with only python3.

Builds .venv from requirements-dev.txt when needed, then runs pytest there. The end-to-end
tests bring up the test lab themselves (Docker engine, registry mirror, Ray image).
Extra arguments go to pytest, e.g. `python3 -m tests -m unit`.
"""

import os
import sys

from raydeploy import bootstrap

NO_TESTS_RAN = 5


def main(argv):
    try:
        bootstrap.ensure_venv(bootstrap.ROOT / "requirements-dev.txt", ["-m", "tests", *argv])
    except bootstrap.BootstrapError as exc:
        print(f"tests: error: {exc}", file=sys.stderr)
        return 2
    import pytest

    os.chdir(bootstrap.ROOT)
    code = pytest.main(argv)
    if code == NO_TESTS_RAN:
        print("tests: no tests ran: that is a failure", file=sys.stderr)
        return 1
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
