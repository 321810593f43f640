"""roles/ray_cluster/tasks/apply.yml runs the plan's two phases in order, each with its own containers: the GCS store
and the head first (workers need the head's address), then the workers; an empty phase is skipped."""

from tests.unit.roles.tasks import load, render, runs

APPLY = "roles/ray_cluster/tasks/apply.yml"
HEAD, REDIS, WORKER = {"name": "ray-head", "role": "head"}, {"name": "ray-redis", "role": "gcs-store"}, \
    {"name": "ray-worker-1", "role": "worker"}


def phases_run(phases):
    """The containers each run of containers.yml gets, in order, for a plan with these phases."""
    variables = {"ray_cluster_plan": {"phases": phases}}
    includes = [task for task in load(APPLY) if task.get("ansible.builtin.include_tasks") == "containers.yml"]
    assert len(includes) == 2, "one include per phase"
    return [render(task["vars"]["ray_cluster_phase_containers"], variables) for task in includes if runs(task, variables)]


def test_the_head_phase_runs_before_the_workers_phase_each_with_its_own_containers():
    assert phases_run([[REDIS, HEAD], [WORKER]]) == [[REDIS, HEAD], [WORKER]]


def test_an_empty_phase_is_skipped():
    assert phases_run([[], [WORKER]]) == [[WORKER]]
    assert phases_run([[HEAD], []]) == [[HEAD]]
