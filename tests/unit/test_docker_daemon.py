"""daemon.json merging: unrelated keys survive, bad input is refused, reload vs restart."""

import pytest


def test_merge_keeps_unrelated_keys_and_sets_mirrors(docker_daemon):
    existing = {"data-root": "/srv/docker", "log-opts": {"max-size": "10m"}, "registry-mirrors": ["https://old"]}
    merged = docker_daemon.docker_daemon_merge(existing, ["http://mirror:5000"], ["mirror:5000"], {"debug": True})
    assert merged == {
        "data-root": "/srv/docker",
        "log-opts": {"max-size": "10m"},
        "registry-mirrors": ["http://mirror:5000"],
        "insecure-registries": ["mirror:5000"],
        "debug": True,
    }
    assert existing["registry-mirrors"] == ["https://old"], "the input must not be mutated"


def test_empty_lists_leave_the_files_lists_alone(docker_daemon):
    existing = {"registry-mirrors": ["https://mine"], "insecure-registries": ["mine:5000"]}
    assert docker_daemon.docker_daemon_merge(existing, [], [], {}) == existing


def test_options_override_existing_keys(docker_daemon):
    merged = docker_daemon.docker_daemon_merge({"log-driver": "syslog", "dns": ["1.1.1.1"]}, [], [], {"log-driver": "json-file"})
    assert merged == {"log-driver": "json-file", "dns": ["1.1.1.1"]}


@pytest.mark.parametrize("text", ["", "  \n"])
def test_empty_file_parses_as_empty_config(docker_daemon, text):
    assert docker_daemon.docker_parse_daemon_json(text) == {}


@pytest.mark.parametrize("text, needle", [('{"a": 1,}', "not valid JSON"), ('["a"]', "JSON object")])
def test_broken_file_is_refused_with_its_path(docker_daemon, text, needle):
    with pytest.raises(Exception) as error:
        docker_daemon.docker_parse_daemon_json(text, "host1:/etc/docker/daemon.json")
    assert needle in str(error.value)
    assert "host1:/etc/docker/daemon.json" in str(error.value)
    assert "Nothing was changed" in str(error.value)


@pytest.mark.parametrize("old, new, action", [
    ({}, {}, "none"),
    ({"a": 1}, {"a": 1}, "none"),
    ({}, {"registry-mirrors": ["http://m"]}, "reload"),
    ({"registry-mirrors": ["http://a"]}, {"registry-mirrors": ["http://b"], "insecure-registries": ["b"]}, "reload"),
    ({}, {"registry-mirrors": ["http://m"], "data-root": "/srv"}, "restart"),
    ({"log-driver": "json-file"}, {}, "restart"),
])
def test_apply_action(docker_daemon, old, new, action):
    assert docker_daemon.docker_daemon_apply_action(old, new) == action


@pytest.mark.parametrize("url, ok", [
    ("http://127.0.0.1:5000", True),
    ("https://mirror.example", True),
    ("https://mirror.example/", True),
    ("mirror.example:5000", False),
    ("ftp://mirror.example", False),
    ("https://mirror.example/v2/", False),
    ("http://mirror.example:99999", False),
])
def test_registry_url_validation(docker_daemon, url, ok):
    errors = docker_daemon.docker_registry_url_errors([url])
    assert (errors == []) is ok
    if not ok:
        assert "docker_registry_mirrors" in errors[0] and url in errors[0]


def test_a_string_instead_of_a_list_gets_one_clear_message(docker_daemon):
    # what `-e docker_registry_mirrors=["http://m:5000"]` hands the role
    errors = docker_daemon.docker_registry_url_errors('["http://m:5000"]', "docker_insecure_registries")
    assert len(errors) == 1
    assert "docker_insecure_registries must be a list" in errors[0] and "-e '{" in errors[0]


def test_mirrors_missing_ignores_trailing_slash(docker_daemon):
    active = ["http://127.0.0.1:5000/"]
    assert docker_daemon.docker_mirrors_missing(["http://127.0.0.1:5000"], active) == []
    assert docker_daemon.docker_mirrors_missing(["http://other:5000"], active) == ["http://other:5000"]
