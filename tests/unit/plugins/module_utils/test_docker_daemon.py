"""daemon.json merging: unrelated keys survive, bad input is refused, reload vs restart (plugins/module_utils/docker_daemon.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import docker_daemon


def test_merge_keeps_unrelated_keys_and_sets_mirrors():
    existing = {"data-root": "/srv/docker", "log-opts": {"max-size": "10m"}, "registry-mirrors": ["https://old"]}
    merged = docker_daemon.merge(existing, ["http://mirror:5000"], ["mirror:5000"], {"debug": True})
    assert merged == {
        "data-root": "/srv/docker",
        "log-opts": {"max-size": "10m"},
        "registry-mirrors": ["http://mirror:5000"],
        "insecure-registries": ["mirror:5000"],
        "debug": True,
    }
    assert existing["registry-mirrors"] == ["https://old"], "the input must not be mutated"


def test_empty_lists_leave_the_files_lists_alone():
    existing = {"registry-mirrors": ["https://mine"], "insecure-registries": ["mine:5000"]}
    assert docker_daemon.merge(existing, [], [], {}) == existing


def test_options_override_existing_keys():
    merged = docker_daemon.merge({"log-driver": "syslog", "dns": ["1.1.1.1"]}, [], [], {"log-driver": "json-file"})
    assert merged == {"log-driver": "json-file", "dns": ["1.1.1.1"]}


@pytest.mark.parametrize("text", ["", "  \n"])
def test_empty_file_parses_as_empty_config(text):
    assert docker_daemon.parse(text) == {}


@pytest.mark.parametrize("text, needle", [('{"a": 1,}', "not valid JSON"), ('["a"]', "JSON object")])
def test_broken_file_is_refused_with_its_path(text, needle):
    with pytest.raises(Exception) as error:
        docker_daemon.parse(text, "host1:/etc/docker/daemon.json")
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
def test_apply_action(old, new, action):
    assert docker_daemon.apply_action(old, new) == action



def test_mirrors_missing_ignores_trailing_slash():
    active = ["http://127.0.0.1:5000/"]
    assert docker_daemon.mirrors_missing(["http://127.0.0.1:5000"], active) == []
    assert docker_daemon.mirrors_missing(["http://other:5000"], active) == ["http://other:5000"]
