"""One runner.py at a time: the second run waits for the first, or gives up with who holds it."""

import pytest

from raydeploy import lock


def test_a_second_run_waits_then_gives_up_naming_the_first(tmp_path):
    path = tmp_path / "runner.lock"
    said = []
    with lock.acquire("site", 1, said.append, path=path):
        with pytest.raises(lock.LockTimeout, match=r"runner.py site \(pid \d+, since .*\) is still running"):
            lock.acquire("cluster", 0.3, said.append, path=path, interval=0.05)
        assert said and said[0].startswith("waiting for runner.py site")
    # released when the first run ends (or its process dies): the next one gets it at once
    with lock.acquire("down", 0, said.append, path=path) as handle:
        assert lock.holder(path)["verb"] == "down" and not handle.closed
