"""The parts of the parallel pull that need no engine: the progress stream, registries and credentials.
The pulls themselves run against the lab's real engine and mirror (tests/e2e: every cold `site`, the degraded
monitoring runs, the offline and failing-mirror cases)."""

import base64
import json
import subprocess

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import image_pull

pytestmark = pytest.mark.unit


def test_errors_in_the_progress_stream_are_found_whatever_else_it_carries():
    # What dockerd streams for a tag no mirror has (Docker 20.10 and 26 both): progress lines, then an error object.
    lines = [
        '{"status":"Pulling from library/redis","id":"7.0.15"}\r\n',
        "not json\r\n",
        "\r\n",
        '{"errorDetail":{"message":"manifest for grafana/grafana:12.2.1 not found: manifest unknown"},'
        '"error":"manifest for grafana/grafana:12.2.1 not found: manifest unknown"}\r\n',
    ]
    assert image_pull.stream_errors(lines) == ["manifest for grafana/grafana:12.2.1 not found: manifest unknown"]
    assert image_pull.stream_errors(['{"status":"Status: Image is up to date for redis:7.0.15"}']) == []


@pytest.mark.parametrize("repository, registry", [
    ("rayproject/ray", image_pull.DOCKER_HUB_AUTH_KEY),
    ("redis", image_pull.DOCKER_HUB_AUTH_KEY),
    ("registry.example.com/team/ray", "registry.example.com"),
    ("mirror:5000/ray", "mirror:5000"),
    ("localhost/ray", "localhost"),
])
def test_the_registry_of_a_repository_is_keyed_as_config_json_keys_it(repository, registry):
    assert image_pull.registry_of(repository) == registry


def write_config(tmp_path, config):
    (tmp_path / "config.json").write_text(json.dumps(config))
    return str(tmp_path)


def test_inline_credentials_are_read_for_their_registry_only(tmp_path):
    auth = base64.b64encode(b"ann:s3cret:with:colons").decode()
    folder = write_config(tmp_path, {"auths": {image_pull.DOCKER_HUB_AUTH_KEY: {"auth": auth}}})
    assert image_pull.credentials(image_pull.DOCKER_HUB_AUTH_KEY, folder) == {
        "username": "ann", "password": "s3cret:with:colons", "serveraddress": image_pull.DOCKER_HUB_AUTH_KEY}
    assert image_pull.credentials("registry.example.com", folder) is None


def test_a_credential_helper_is_asked_as_the_docker_cli_asks_it(tmp_path):
    folder = write_config(tmp_path, {"credHelpers": {"registry.example.com": "pass"}, "auths": {}})
    asked = []

    def helper(argv, input, **kwargs):
        asked.append((argv, input))
        return subprocess.CompletedProcess(argv, 0, json.dumps({"Username": "bob", "Secret": "tok"}), "")

    assert image_pull.credentials("registry.example.com", folder, run=helper) == {
        "username": "bob", "password": "tok", "serveraddress": "registry.example.com"}
    assert asked == [(["docker-credential-pass", "get"], "registry.example.com")]


def test_a_missing_helper_or_config_means_an_anonymous_pull(tmp_path):
    folder = write_config(tmp_path, {"credsStore": "desktop.exe"})

    def missing(argv, **kwargs):
        raise FileNotFoundError(argv[0])

    assert image_pull.credentials(image_pull.DOCKER_HUB_AUTH_KEY, folder, run=missing) is None
    assert image_pull.credentials(image_pull.DOCKER_HUB_AUTH_KEY, str(tmp_path / "none")) is None
    assert image_pull.auth_header(None) == {}


def test_the_auth_header_is_base64url_json_as_the_engine_reads_it():
    header = image_pull.auth_header({"username": "ann", "password": "p?>", "serveraddress": "x"})
    decoded = json.loads(base64.urlsafe_b64decode(header["X-Registry-Auth"]))
    assert decoded == {"username": "ann", "password": "p?>", "serveraddress": "x"}


def test_a_hosts_images_are_pulled_at_once_each_with_its_own_tries(monkeypatch):
    """README: "pulled at once". Three pulls of 0.4 s each end in about 0.4 s together, not 1.2 s; one that fails is
    retried on its own while the others go on, and the outcomes come back in the order asked."""
    import threading
    import time as real_time

    from ansible_collections.ray_docker.cluster.plugins.module_utils import image_pull

    running, most = [0], [0]
    lock = threading.Lock()

    def fake_pull(client, image, attempts, delay, timeout):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        real_time.sleep(0.4)
        with lock:
            running[0] -= 1
        return {"name": image["name"], "ok": image["name"] != "bad:1", "attempts": attempts}

    monkeypatch.setattr(image_pull, "pull", fake_pull)
    images = [{"name": name, "repository": name.split(":")[0], "tag": "1"} for name in ("ray:1", "redis:1", "bad:1")]
    started = real_time.monotonic()
    results = image_pull.pull_all("unix:///nonexistent.sock", images, 3, 0, 10)
    assert real_time.monotonic() - started < 0.9 and most[0] == 3
    assert [(result["name"], result["ok"]) for result in results] == [("ray:1", True), ("redis:1", True), ("bad:1", False)]
