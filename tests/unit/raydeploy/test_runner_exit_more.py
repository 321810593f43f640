"""runner.py's exit status, as the README promises it: 0 done, 1 failed, 3 degraded (scripts and CI read it)."""

import json
from types import SimpleNamespace

import pytest

import runner
from raydeploy import report


def summary(status):
    return {"status": status, "hosts": {"h1": {"ok": 3, "changed": 0, "failed": int(status == "failed"),
                                                "unreachable": 0, "skipped": 0, "rescued": 0}},
            "failures": [], "degraded": ["left out Grafana"] if status == "degraded" else [], "elapsed_seconds": 1.0}


@pytest.mark.parametrize("status, code", [("ok", 0), ("failed", 1), ("degraded", 3)])
def test_the_exit_status_says_how_the_run_ended(monkeypatch, capsys, status, code):
    monkeypatch.setattr(runner, "play", lambda args: (summary(status), {}))
    assert runner.run(SimpleNamespace(json=True)) == code
    assert json.loads(capsys.readouterr().out)["status"] == status


def test_a_run_ending_in_an_unknown_state_is_a_failure(monkeypatch, capsys):
    monkeypatch.setattr(runner, "play", lambda args: (summary("canceled"), {}))
    assert runner.run(SimpleNamespace(json=False)) == 1


def test_degraded_is_told_apart_from_done_failed_and_a_bad_command_line():
    assert report.DEGRADED_EXIT == 3 and report.DEGRADED_EXIT not in (0, 1, 2)
