"""The worker port range's ends belong to it: a pinned port on either end is a collision (plugins/module_utils/ports.py)."""

import pytest

from ansible_collections.ray_docker.cluster.plugins.module_utils import ports


@pytest.mark.parametrize("port", [10002, 19999])
def test_a_pinned_port_on_either_end_of_the_worker_range_is_refused(port):
    """Ray hands out every port from ray_min_worker_port to ray_max_worker_port, both included."""
    errors = ports.collisions(dict(ports.defaults(), ray_client_server_port=port))
    assert errors == [f"ray_client_server_port={port} lies in the worker port range ray_min_worker_port..ray_max_worker_port "
                      "(10002-19999)"]


@pytest.mark.parametrize("port", [10001, 20000])
def test_a_pinned_port_just_outside_the_worker_range_is_accepted(port):
    assert ports.collisions(dict(ports.defaults(), ray_client_server_port=port)) == []
