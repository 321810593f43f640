"""The LAN image cache's plan, config, mirror list and report (plugins/module_utils/registry_cache.py)."""

import json

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import registry_cache

SETTINGS = {"registry_cache_enabled": True, "registry_cache_min_hosts": 2, "registry_cache_host": "",
            "registry_cache_port": 5050, "registry_cache_upstream": "", "docker_registry_mirrors": [],
            "registry_cache_data_dir": "/var/lib/ray-docker/registry-cache"}
# Lines as distribution 2.8 writes them (access log and an error of its proxy).
LOG = """\
10.0.0.2 - - [05/Dec/2026:06:15:35 +0000] "GET /v2/rayproject/ray/manifests/2.60.0-py311-cpu HTTP/1.1" 200 1234 "" "docker/20.10.24"
10.0.0.2 - - [05/Dec/2026:06:15:35 +0000] "GET /v2/rayproject/ray/blobs/sha256:aa HTTP/1.1" 200 71034051 "" "docker/20.10.24"
10.0.0.3 - - [05/Dec/2026:06:15:36 +0000] "HEAD /v2/library/redis/manifests/7.0.15 HTTP/1.1" 200 741 "" "docker/20.10.24"
10.0.0.3 - - [05/Dec/2026:06:15:36 +0000] "HEAD /v2/library/redis/blobs/sha256:bb HTTP/1.1" 200 41559397 "" "docker/20.10.24"
10.0.0.4 - - [05/Dec/2026:06:15:37 +0000] "GET /v2/rayproject/ray/manifests/2.60.0-py311-cpu HTTP/1.1" 404 97 "" "docker/20.10.24"
time="2026-12-05T06:10:09Z" level=error msg="Error committing to storage: write /data/docker/registry/v2/repositories/library/redis/_uploads/3f/data: no space left on device" go.version=go1.19.8
"""


@pytest.mark.parametrize("hosts, enabled, minimum, expected", [
    (["h0"], True, 2, False),         # the embedded single host gains nothing
    (["h0", "h1"], True, 2, True),
    (["h0", "h1"], False, 2, False),
    (["h0"], True, 1, True),          # asked for on one host
])
def test_the_cache_is_on_for_a_lab_of_at_least_the_minimum_of_hosts(hosts, enabled, minimum, expected):
    settings = dict(SETTINGS, registry_cache_enabled=enabled, registry_cache_min_hosts=minimum)
    assert registry_cache.active(settings, hosts[:1], hosts[1:]) is expected


def test_it_runs_on_the_heads_host_unless_told_and_proxies_the_first_mirror_else_docker_hub():
    assert registry_cache.cache_host(SETTINGS, "h0") == "h0"
    assert registry_cache.cache_host(dict(SETTINGS, registry_cache_host="h3"), "h0") == "h3"
    assert registry_cache.upstream(SETTINGS) == "https://registry-1.docker.io"
    assert registry_cache.upstream(dict(SETTINGS, docker_registry_mirrors=["https://m1.example/", "https://m2"])) == \
        "https://m1.example"
    assert registry_cache.upstream(dict(SETTINGS, registry_cache_upstream="http://up:5000",
                                        docker_registry_mirrors=["https://m1"])) == "http://up:5000"


def test_the_location_is_the_cache_host_and_its_url_or_nothing_when_off():
    addresses = {"h0": "10.0.0.2", "h1": "10.0.0.3"}.get
    assert registry_cache.location(SETTINGS, ["h0"], ["h1"], "h0", addresses) == ("h0", "http://10.0.0.2:5050")
    assert registry_cache.location(dict(SETTINGS, registry_cache_host="h1", registry_cache_address="cache.lab"),
                                   ["h0"], ["h1"], "h0", addresses) == ("h1", "http://cache.lab:5050")
    assert registry_cache.location(SETTINGS, ["h0"], ["h1"], "h0", lambda host: "") == ("h0", "")  # address unknown
    assert registry_cache.location(SETTINGS, ["h0"], [], "h0", addresses) == ("", "")  # one host: no cache


def test_the_url_is_plain_http_on_its_address():
    assert registry_cache.cache_url("10.0.0.2", 5050) == "http://10.0.0.2:5050"
    assert registry_cache.cache_url("fd00::2", 5050) == "http://[fd00::2]:5050"
    assert registry_cache.cache_url("", 5050) == ""


@pytest.mark.parametrize("url, wanted, current, expected", [
    # the cache first, then the upstream mirrors
    ("http://10.0.0.2:5050", ["https://m1"], [], ["http://10.0.0.2:5050", "https://m1"]),
    # no mirrors set: the file's own stay behind the cache
    ("http://10.0.0.2:5050", [], ["https://users"], ["http://10.0.0.2:5050", "https://users"]),
    # the cache moved: the old entry is replaced, not kept
    ("http://10.0.0.9:5050", [], ["http://10.0.0.2:5050", "https://users"], ["http://10.0.0.9:5050", "https://users"]),
    # a run that does not know the cache's address (--limit) keeps the file's cache entry: no flip-flop
    ("", ["https://m1"], ["http://10.0.0.2:5050", "https://m1"], ["http://10.0.0.2:5050", "https://m1"]),
    ("", ["https://m1"], ["https://m1"], ["https://m1"]),
    # never listed twice
    ("http://10.0.0.2:5050", ["http://10.0.0.2:5050", "https://m1"], [], ["http://10.0.0.2:5050", "https://m1"]),
])
def test_engines_list_the_cache_first(url, wanted, current, expected):
    assert registry_cache.engine_mirrors(url, wanted, current, 5050) == expected


@pytest.mark.parametrize("name, hub, repository", [
    ("rayproject/ray:2.60.0-py311-cpu", True, "rayproject/ray"),
    ("redis:7.0.15", True, "library/redis"),
    ("prom/prometheus:v2.53.3", True, "prom/prometheus"),
    ("redis@sha256:abc", True, "library/redis"),
    ("ghcr.io/me/ray:2.60.0", False, None),
    ("registry.lab:5000/ray:2.60.0", False, None),
    ("localhost/ray:2.60.0", False, None),
])
def test_only_docker_hub_images_go_through_registry_mirrors(name, hub, repository):
    assert registry_cache.is_hub_image(name) is hub
    if hub:
        assert registry_cache.hub_repository(name) == repository


def test_the_config_proxies_the_upstream_or_serves_read_only_what_it_holds():
    settings = dict(SETTINGS)
    proxy = registry_cache.config(settings, registry_cache.MODE_PROXY, "https://m1")
    assert proxy["proxy"] == {"remoteurl": "https://m1"} and proxy["http"]["addr"] == ":5050"
    assert proxy["storage"]["filesystem"]["rootdirectory"] == "/var/lib/ray-docker/registry-cache"
    assert "maintenance" not in proxy["storage"]
    offline = registry_cache.config(settings, registry_cache.MODE_OFFLINE, "https://m1")
    assert "proxy" not in offline and offline["storage"]["maintenance"] == {"readonly": {"enabled": True}}
    json.dumps(proxy)  # written as JSON, which the registry reads as YAML


@pytest.mark.parametrize("upstream_answers, has_data, mode", [
    (True, False, "proxy"), (True, True, "proxy"), (False, True, "offline"), (False, False, "proxy")])
def test_offline_only_when_the_upstream_is_away_and_there_is_something_to_serve(upstream_answers, has_data, mode):
    assert registry_cache.mode_for(upstream_answers, has_data) == mode


def test_the_log_says_whom_it_served_and_what_it_could_not_keep():
    requests, errors = registry_cache.read_access_log(LOG)
    assert requests["10.0.0.2"]["rayproject/ray"] == {"manifests": 1, "blobs": 1, "bytes": 71035285}
    # an engine that has the layers asks for the tag with HEAD alone: served; a HEAD of a blob moved nothing
    assert requests["10.0.0.3"]["library/redis"] == {"manifests": 1, "blobs": 0, "bytes": 741}
    assert "10.0.0.4" not in requests, "a 404 served nothing"
    assert errors == ["write /data/docker/registry/v2/repositories/library/redis/_uploads/3f/data: no space left on device"]


def test_each_hosts_pulls_are_sorted_by_source():
    requests, _ = registry_cache.read_access_log(LOG)
    pulled = {"h0": {"address": "10.0.0.2", "images": ["rayproject/ray:2.60.0-py311-cpu"]},
              "h1": {"address": "10.0.0.3", "images": ["redis:7.0.15", "ghcr.io/me/tool:1"]},
              "h2": {"address": "10.0.0.4", "images": ["rayproject/ray:2.60.0-py311-cpu"]}}
    outcome = registry_cache.sources(pulled, requests)
    assert outcome == {"served": {"h0": ["rayproject/ray:2.60.0-py311-cpu"], "h1": ["redis:7.0.15"]},
                       "past": {"h2": ["rayproject/ray:2.60.0-py311-cpu"]},
                       "other_registry": {"h1": ["ghcr.io/me/tool:1"]}}
    state = {"url": "http://10.0.0.2:5050", "host": "h0", "running": True, "mode": "proxy", "upstream": "https://m1"}
    lines, degraded = registry_cache.report_lines(state, outcome, [], 10 * 2**30, 2**30)
    assert "h0 pulled rayproject/ray:2.60.0-py311-cpu from the LAN image cache http://10.0.0.2:5050 on h0" in lines
    assert any("ghcr.io/me/tool:1 from its own registry" in line and "Docker Hub images only" in line for line in lines)
    assert len(degraded) == 1 and "h2: rayproject/ray:2.60.0-py311-cpu" in degraded[0]
    assert "did not answer for them" in degraded[0]


def test_a_cache_that_could_not_keep_layers_or_ran_offline_is_reported():
    state = {"url": "http://10.0.0.2:5050", "host": "h0", "running": False, "mode": "offline", "upstream": "https://m1"}
    outcome = {"served": {}, "past": {"h1": ["redis:7.0.15"]}, "other_registry": {}}
    lines, degraded = registry_cache.report_lines(state, outcome, ["no space left on device"], 5 * 2**20, 2**30)
    assert "serves only what it holds (read-only)" in lines[0] and "https://m1" in lines[0]
    assert "it did not run" in degraded[0]
    assert "could not keep 1 layer(s) (no space left on device)" in degraded[1] and "5 MiB" in degraded[1]
    lines, degraded = registry_cache.report_lines(dict(state, mode="proxy", running=True),
                                                  {"served": {}, "past": {}, "other_registry": {}}, [], 5 * 2**20, 2**30)
    assert degraded == [] and "has 5 MiB free" in lines[0]


def test_the_fill_asks_for_a_shared_layer_once_at_a_time_and_again_when_it_stalled():
    missing = [("rayproject/ray", "sha256:base"), ("rayproject/ray", "sha256:ray"), ("library/redis", "sha256:base")]
    # first round: the base layer for one repository only (distribution has one fetch in flight per digest)
    assert registry_cache.blobs_to_ask(missing, {}, 100.0, 120) == missing[:2]
    asked = {key: 100.0 for key in missing[:2]}
    assert registry_cache.blobs_to_ask(missing, asked, 110.0, 120) == []
    # Ray's copy kept: Redis's is asked for now
    assert registry_cache.blobs_to_ask(missing[1:], asked, 120.0, 120) == [("library/redis", "sha256:base")]
    # asked 120 s ago and still not kept: asked again
    assert registry_cache.blobs_to_ask(missing[:2], asked, 221.0, 120) == missing[:2]


@pytest.mark.parametrize("size,max_mb,rotate", [(0, 10, False), (10 * 2**20, 10, False), (10 * 2**20 + 1, 10, True),
                                                (2 * 2**20, 1, True)])
def test_the_caches_log_is_rotated_once_over_its_cap(size, max_mb, rotate):
    assert registry_cache.log_needs_rotation(size, max_mb) is rotate
