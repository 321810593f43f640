"""The keeper that holds a node's logs to their cap and age (plugins/module_utils/log_keeper.py), on real folders laid
out as Ray 2.60 lays out its temp folder (/tmp/ray/session_<time>_<pid>/logs, logs/old, runtime_resources,
session_latest -> the current session)."""

import os
import time

from ansible_collections.ray_docker.cluster.plugins.module_utils import log_keeper

DAY = 86400
MB = 2**20


def put(path, size, age=0, now=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    moment = (now or time.time()) - age
    os.utime(path, (moment, moment))
    return path


def tree(tmp_path, now):
    root = tmp_path / "ray"
    old = root / "session_2026-11-01_10-00-00_1"
    current = root / "session_2026-12-07_09-00-00_7"
    put(old / "logs" / "raylet.out", 5 * MB, 30 * DAY, now)
    os.utime(old, (now - 30 * DAY, now - 30 * DAY))
    put(current / "logs" / "raylet.out", 3 * MB, 0, now)
    put(current / "logs" / "gcs_server.out", 1 * MB, 0, now)
    put(current / "logs" / "raylet.1.out", 2 * MB, 2 * 3600, now)
    put(current / "logs" / "worker-aa.out.1", 2 * MB, 3600, now)
    put(current / "logs" / "old" / "worker-bb.out", 4 * MB, 10 * DAY, now)
    put(current / "logs" / "old" / "worker-cc.out", 1 * MB, 600, now)
    put(current / "runtime_resources" / "pip" / "env" / "lib.py", 1 * MB, 9 * DAY, now)
    put(current / "sockets" / "plasma_store", 0, 0, now)
    (root / "session_latest").symlink_to(current)
    return root, old, current


def sizes(root):
    return {str(path.relative_to(root)): path.stat().st_size for path in sorted(root.rglob("*")) if path.is_file()}


def test_past_sessions_and_leftovers_beyond_the_retention_go_and_the_rest_stays_under_the_cap(tmp_path):
    now = time.time()
    root, old, current = tree(tmp_path, now)
    actions = log_keeper.once(str(root), 100 * MB, 7 * DAY, now=now)
    assert ("rmtree", str(old)) in actions and not old.exists(), "a session older than the retention goes"
    left = sizes(root)
    assert "session_2026-12-07_09-00-00_7/logs/old/worker-bb.out" not in left, "an ended worker's old log goes"
    assert "session_2026-12-07_09-00-00_7/runtime_resources/pip/env/lib.py" not in left, "an old runtime env goes"
    assert left["session_2026-12-07_09-00-00_7/logs/raylet.out"] == 3 * MB, "under the cap nothing current is touched"
    assert "session_2026-12-07_09-00-00_7/sockets/plasma_store" in left, "sockets are never touched"


def test_over_the_cap_old_then_rotated_files_go_first_and_current_ones_are_emptied_last(tmp_path):
    now = time.time()
    root, _, current = tree(tmp_path, now)
    log_keeper.once(str(root), 100 * MB, 7 * DAY, now=now)  # the retention first
    # 3 + 1 + 2 + 2 + 1 = 9 MB of logs left; a cap of 5 MB takes logs/old, then the rotated files, oldest first
    log_keeper.once(str(root), 5 * MB, 7 * DAY, now=now)
    left = sizes(current)
    assert left == {"logs/raylet.out": 3 * MB, "logs/gcs_server.out": 1 * MB, "sockets/plasma_store": 0}
    # a cap below the current files empties the largest first
    log_keeper.once(str(root), 2 * MB, 7 * DAY, now=now)
    assert sizes(current) == {"logs/raylet.out": 0, "logs/gcs_server.out": 1 * MB, "sockets/plasma_store": 0}


def test_the_plan_deletes_a_past_session_over_the_cap_before_anything_of_the_current_one():
    now = 1_000_000.0
    sessions = {"/r/session_a": now - DAY, "/r/session_b": now}
    files = [("/r/session_a/logs/raylet.out", 6 * MB, now - DAY), ("/r/session_b/logs/raylet.1.out", 2 * MB, now - 60),
             ("/r/session_b/logs/raylet.out", 3 * MB, now)]
    assert log_keeper.plan(sessions, "/r/session_b", files, now, 5 * MB, 7 * DAY) == [
        ("delete", "/r/session_a/logs/raylet.out")]
    assert log_keeper.plan(sessions, "/r/session_b", files, now, 100 * MB, 7 * DAY) == [], "under the cap: nothing"


def test_a_missing_root_or_a_vanished_file_is_no_error(tmp_path):
    assert log_keeper.once(str(tmp_path / "nothing"), MB, DAY) == []
    log_keeper.apply([("delete", str(tmp_path / "gone")), ("truncate", str(tmp_path / "gone"))])


def test_runtime_environments_are_swept_every_sweep_every_rounds_and_the_logs_cap_held_every_round(tmp_path,
                                                                                                     monkeypatch):
    """One job's pip environment is tens of thousands of files that age out in days: walking them every 10 s cost a
    node a fifth of a core. The keeper's own loop (main), its sleep the only thing replaced."""
    now = time.time()
    root, _, current = tree(tmp_path, now)
    leftover = current / "runtime_resources" / "pip" / "env" / "lib.py"
    late = current / "runtime_resources" / "pip" / "later" / "lib.py"
    rounds = []

    def sleep(seconds):
        assert seconds == log_keeper.INTERVAL
        rounds.append(seconds)
        if len(rounds) == 1:
            assert not leftover.exists(), "the first round sweeps"
            put(late, MB, 9 * DAY)  # aged beyond the retention after the first sweep
            put(current / "logs" / "big.out", 2 * MB)  # over the cap: held at once, not at the next sweep
        elif len(rounds) == 2:
            logs = sum(path.stat().st_size for path in (current / "logs").rglob("*") if path.is_file())
            assert logs <= 9 * MB, "the cap is held every round"
            assert late.exists(), "between sweeps no runtime environment is walked"
        elif len(rounds) == log_keeper.SWEEP_EVERY:
            assert late.exists(), "nor in the last round before the next sweep"
        elif len(rounds) == log_keeper.SWEEP_EVERY + 1:
            assert not late.exists(), "the next sweep takes it"
            raise StopIteration

    monkeypatch.setattr(log_keeper.time, "sleep", sleep)
    try:
        log_keeper.main([str(root), "9", "7"])  # a 9 MB cap: 9 MB of logs after the first round, then 11
    except StopIteration:
        pass
    assert len(rounds) == log_keeper.SWEEP_EVERY + 1
