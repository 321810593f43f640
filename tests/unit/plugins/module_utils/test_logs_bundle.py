"""What `runner.py logs` puts in its archive (plugins/module_utils/logs_bundle.py)."""

import io

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import logs_bundle


def test_durations():
    assert [logs_bundle.seconds(text) for text in ("30m", "2h", "1d", "45s", "", "soon")] == [1800, 7200, 86400, 45, 0, 0]


def test_only_the_sessions_logs_newer_than_since_go_in():
    assert logs_bundle.wanted("session_2026-12-07_1/logs/raylet.out", 100, 50)
    assert not logs_bundle.wanted("session_2026-12-07_1/logs/raylet.out", 10, 50), "older than --since"
    assert logs_bundle.wanted("session_2026-12-07_1/logs/old/worker-a.out", 100, 0)
    for other in ("spill/ray_spilled_objects_x", "session_2026-12-07_1/sockets/raylet",
                  "session_2026-12-07_1/runtime_resources/pip/x", "session_latest", "prom_metrics_service_discovery.json"):
        assert not logs_bundle.wanted(other, 100, 0), other


def test_every_secret_is_replaced_wherever_it_hides():
    token, password = b"a" * 64, b"p4ssw0rd-of-redis-0123456789"
    line = b"gcs_server --redis_password=" + password + b" token=" + token + b" ok"
    assert logs_bundle.redact(line, [token, password, b""]) == b"gcs_server --redis_password=<redacted> token=<redacted> ok"
    assert logs_bundle.redact(b"short abc", [b"abc"]) == b"short abc", "too short to be a secret: left as it is"


def test_the_index_names_each_member_and_its_source():
    text = logs_bundle.index_text([{"member": "h0/docker/ray-head.log", "bytes": 10, "source": "h0:docker/ray-head.log"}])
    assert text.splitlines()[-1] == "h0/docker/ray-head.log\t10\th0:docker/ray-head.log"


@pytest.mark.parametrize("chunk", [1, 3, 7, 16, 29, 2**20])
def test_a_stream_is_redacted_as_a_whole_whatever_its_chunks(chunk):
    token, password = b"T" * 10 + b"0123456789abcdef", b"redis-pass-XYZ"
    data = (b"start " + token + b" mid " + password + b"\n" + b"x" * 37 + token + password + b"end " + token)
    out = io.BytesIO()
    written = logs_bundle.redact_stream(io.BytesIO(data), out, [token, password], chunk=chunk)
    assert out.getvalue() == logs_bundle.redact(data, [token, password]) and written == len(out.getvalue())
    assert token not in out.getvalue() and password not in out.getvalue()
    assert out.getvalue().count(logs_bundle.REDACTED) == 5


def test_a_stream_without_secrets_is_copied_as_it_is():
    out = io.BytesIO()
    assert logs_bundle.redact_stream(io.BytesIO(b"plain log\n" * 1000), out, [], chunk=64) == 10000
    assert out.getvalue() == b"plain log\n" * 1000
