"""roles/ray_cluster/tasks/down.yml does what its plan says, in the order that makes `down` fast: every worker before
any head (a worker stopped after its head waits in Ray's reconnect loop until Docker kills it), then the network only
when there is one."""

from tests.unit.roles.tasks import calling, load, module, render, runs

DOWN = "roles/ray_cluster/tasks/down.yml"
PLAN = {"workers": ["ray-worker-1", "ray-worker-2"], "others": ["ray-head", "ray-redis"], "network": "ray-net",
        "volumes": ["ray-gcs-redis"]}


def variables(**changes):
    return {"ray_cluster_down": {"down": dict(PLAN, **changes)}}


def test_every_worker_goes_before_any_head_and_every_container_goes_once():
    tasks = load(DOWN)
    removals = calling(tasks, "community.docker.docker_container", state="absent")
    removed = [render(module(task)[1]["name"], {**variables(), "item": item})
               for task in removals if runs(task, variables())
               for item in render(task["loop"], variables())]
    assert removed == PLAN["workers"] + PLAN["others"]


def test_the_network_goes_only_when_the_plan_names_one():
    task, = calling(load(DOWN), "community.docker.docker_network", state="absent")
    assert runs(task, variables()) and render(task["community.docker.docker_network"]["name"], variables()) == "ray-net"
    assert not runs(task, variables(network=""))
