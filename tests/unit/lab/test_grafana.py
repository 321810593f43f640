"""The Grafana e2e tests are decided after the lab is up (tests/lab/grafana.py), not when pytest collects them."""

import pytest

from tests.lab import LabError, grafana_tests_skip_reason


def test_served_grafana_runs_the_tests():
    assert grafana_tests_skip_reason(served=True, archive="") is None
    assert grafana_tests_skip_reason(served=True, archive="/tmp/grafana.tar") is None


def test_no_archive_and_no_grafana_skips_saying_how_to_have_it():
    reason = grafana_tests_skip_reason(served=False, archive="")
    assert "RAYLAB_GRAFANA_ARCHIVE" in reason and "grafana/grafana:" in reason


def test_an_archive_the_mirror_does_not_serve_is_a_broken_lab_not_a_skip():
    with pytest.raises(LabError, match="RAYLAB_GRAFANA_ARCHIVE=/tmp/grafana.tar was given"):
        grafana_tests_skip_reason(served=False, archive="/tmp/grafana.tar")
