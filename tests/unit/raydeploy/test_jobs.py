"""runner.py job: its command line, the upload check (Ray's own walk and package), the version check and the table."""

import io
from types import SimpleNamespace

import pytest

from raydeploy import cli, jobs


def test_the_command_after_the_double_dash_is_the_entrypoint():
    args = cli.parse_args(["job", "submit", "--no-wait", "--exclude", "data/", "--", "python", "train.py", "--lr", "0.1"],
                          typed=False)
    assert (args.verb, args.job_verb, args.no_wait, args.exclude) == ("job", "submit", True, ["data/"])
    assert args.entrypoint == "python train.py --lr 0.1" and args.playbook.name == "job.yml"


@pytest.mark.parametrize("argv, message", [
    (["job", "submit"], "give the job's command after --"),
    (["job", "list", "--", "ls"], "job list takes no command after --"),
])
def test_a_bad_job_command_line_is_one_line(argv, message):
    with pytest.raises(cli.UserError, match=message):
        cli.parse_args(argv, typed=False)


def test_the_jobs_client_drives_any_cluster_with_token_auth_of_its_major_version():
    """It speaks HTTP only (plugins/module_utils/ray_versions.py): after an upgrade, before or after the control node's
    own Ray, `job` goes on working; a cluster without token auth (before 2.52) or of another major is refused."""
    assert jobs.version_problem("2.60.0", "2.60.0") is None
    assert jobs.version_problem("2.60.0", "2.59.0") is None and jobs.version_problem("2.60.0", "2.61.1") is None
    assert "token authentication" in jobs.version_problem("2.60.0", "2.51.2")
    assert "another major version; install ray[default]==3.0.0" in jobs.version_problem("2.60.0", "3.0.0")


def tree(root):
    root.mkdir(exist_ok=True)
    (root / "train.py").write_bytes(b"x" * 1000)
    for folder in (".git", ".venv", "venv", "__pycache__", "data", "logs", "src/model"):
        (root / folder).mkdir(parents=True)
        (root / folder / "big").write_bytes(b"y" * 50_000)
    (root / ".gitignore").write_text("logs/\n")
    return root


def test_the_size_is_that_of_the_package_ray_builds(tmp_path):
    """Ray zips with ZIP_STORED (ray/_private/runtime_env/packaging.py, _zip_files: `ZipFile(..., "w")`)."""
    from ray._private.runtime_env import packaging

    root = tree(tmp_path / "project")
    target = tmp_path / "package.zip"  # the client adds Ray's default excludes to the user's (runtime_env)
    packaging.create_package(str(root), target, include_gitignore=True, excludes=jobs.default_excludes() + ["data"],
                             logger=None)
    assert abs(jobs.check_working_dir(root, ["data"]) - target.stat().st_size) < 64


def test_the_upload_leaves_out_rays_defaults_gitignore_and_excludes(tmp_path, monkeypatch):
    root = tree(tmp_path)
    assert set(jobs.default_excludes()) >= {".git", ".venv", "venv", "__pycache__"}
    assert jobs.check_working_dir(root, ["data"]) < 60_000, "only train.py, src/model/big and .gitignore"
    assert 100_000 < jobs.check_working_dir(root, []) < 110_000, "data too"
    monkeypatch.setenv("RAY_RUNTIME_ENV_IGNORE_GITIGNORE", "1")  # Ray's own switch: logs/ goes along then
    assert 150_000 < jobs.check_working_dir(root, []) < 160_000


def test_a_missing_working_dir_is_refused(tmp_path):
    with pytest.raises(jobs.JobError, match="--working-dir .*nowhere: no such folder"):
        jobs.check_working_dir(tmp_path / "nowhere", [])


def test_a_package_over_the_limit_is_refused_naming_its_size(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0" * 2 * 2**20)
    with pytest.raises(jobs.JobError, match=r"its package is 2\.0 MiB, over the 1 MiB .* nothing was sent"):
        jobs.check_working_dir(tmp_path, [], limit=2**20)
    assert jobs.check_working_dir(tmp_path, ["weights.bin"], limit=2**20) < 1000


def test_the_table_has_one_line_per_job_oldest_first_as_given():
    info = SimpleNamespace(submission_id="raysubmit_1", job_id=None, status=SimpleNamespace(value="SUCCEEDED"),
                           entrypoint="python -c '\nimport ray\nray.init()'", start_time=1_764_900_000_000,
                           end_time=1_764_900_003_500, message="")
    row = jobs.row(info)
    assert row == {"job_id": "raysubmit_1", "status": "SUCCEEDED", "entrypoint": info.entrypoint,
                   "start": "2025-12-05 02:00:00", "duration_s": 3.5, "message": ""}
    lines = jobs.format_table([row]).splitlines()
    assert lines[0].split() == ["ID", "STATUS", "ENTRYPOINT", "START", "(UTC)", "DURATION"]
    assert lines[1].split() == ["raysubmit_1", "SUCCEEDED", "python", "-c", "'", "import", "ray", "ray.init()'",
                                "2025-12-05", "02:00:00", "3.5", "s"]


def test_what_the_jobs_api_answers_is_said_in_one_line_naming_the_right_cause():
    from ray.exceptions import AuthenticationError

    url, token = "http://10.0.0.5:8265", "/home/me/.config/ray-docker/ray/auth_token"
    unknown = RuntimeError("Request failed with status code 404: Job with submission_id train-20250401 does not exist.")
    assert jobs.explain(unknown, url, token, "train-20250401").startswith("no job train-20250401 on the cluster")
    assert "rejected the token in " + token in jobs.explain(AuthenticationError("Unauthorized: invalid token"), url, token)
    refused = ConnectionError("Failed to connect to Ray at address: http://10.0.0.5:8265.")
    assert jobs.explain(refused, url, token).startswith("no Ray head answers at http://10.0.0.5:8265")
    driver = RuntimeError("Request failed with status code 400: Can only get logs of submission type jobs")
    assert "started by a driver, not submitted" in jobs.explain(driver, url, token, "01000000")


class AnsweringClient:
    """What Ray's JobSubmissionClient.get_job_logs answers: text, or an exception as Ray raises it."""

    def __init__(self, answer):
        self.answer = answer

    def get_job_logs(self, job_id):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_log_ray_has_is_rays_and_the_kept_files_are_not_read():
    def kept(job_id):
        raise AssertionError("read the host although Ray answered")

    err = io.StringIO()
    assert jobs.job_logs(AnsweringClient("hello\n"), "j1", "http://h:8265", "/t", kept, err) == "hello\n"
    assert err.getvalue() == ""


@pytest.mark.parametrize("answer", ["", RuntimeError("Request failed with status code 500: Traceback ... ClientConnectorError")])
def test_a_job_whose_head_was_replaced_is_read_from_the_heads_kept_session(answer):
    err = io.StringIO()
    asked = []
    text = jobs.job_logs(AnsweringClient(answer), "j1", "http://h:8265", "/t",
                         lambda job_id: asked.append(job_id) or ("lab1", "/var/lib/ray-docker/ray/ray-head/session_1/logs/job-driver-j1.log", "old output\n"), err)
    assert text == "old output\n" and asked == ["j1"]
    assert "lab1:/var/lib/ray-docker/ray/ray-head/session_1/logs/job-driver-j1.log" in err.getvalue()
    assert "replaced" in err.getvalue()


def test_an_empty_log_kept_nowhere_else_is_empty_without_a_note():
    err = io.StringIO()
    assert jobs.job_logs(AnsweringClient(""), "j1", "u", "/t", lambda job_id: ("lab1", "/p", ""), err) == ""
    assert jobs.job_logs(AnsweringClient(""), "j1", "u", "/t", lambda job_id: None, err) == ""
    assert err.getvalue() == ""


def test_rays_error_stands_when_the_head_kept_nothing():
    with pytest.raises(jobs.JobError, match="no Ray head answers at http://h:8265"):
        jobs.job_logs(AnsweringClient(ConnectionError("Failed to connect")), "j1", "http://h:8265", "/t", lambda job_id: None)
    with pytest.raises(jobs.JobError, match="no Ray head answers"):
        jobs.job_logs(AnsweringClient(ConnectionError("Failed to connect")), "j1", "http://h:8265", "/t")


def test_only_an_unknown_job_is_unknown():
    def ask(exc):
        def call():
            raise exc
        return call

    with pytest.raises(jobs.UnknownJob, match="no job j1"):
        jobs.asking(ask(RuntimeError("Request failed with status code 404: Job j1 does not exist.")), "u", "/t", "j1")
    with pytest.raises(jobs.JobError) as other:
        jobs.asking(ask(ConnectionError("Failed to connect")), "u", "/t", "j1")
    assert not isinstance(other.value, jobs.UnknownJob)
    with pytest.raises(jobs.JobError) as listing:  # without a job id nothing is an unknown job
        jobs.asking(ask(RuntimeError("status code 404")), "u", "/t")
    assert not isinstance(listing.value, jobs.UnknownJob)


def test_pip_and_runtime_env_json_go_into_the_jobs_runtime_env(tmp_path):
    args = cli.parse_job_args(["submit", "--working-dir", str(tmp_path), "--pip", "six", "--pip", "tomli-w==1.0.0",
                               "--runtime-env-json", '{"env_vars": {"A": "1"}, "pip": ["rich"], "excludes": ["data/"]}',
                               "--", "python", "x.py"])
    env = jobs.job_runtime_env(args, ["*.ckpt"])
    assert env == {"env_vars": {"A": "1"}, "pip": ["rich", "six", "tomli-w==1.0.0"], "working_dir": str(tmp_path),
                   "excludes": ["data/", "*.ckpt"]}
    packages = cli.parse_job_args(["submit", "--pip", "six", "--runtime-env-json", '{"pip": {"packages": ["rich"], '
                                   '"pip_check": false}}', "--", "true"])
    assert jobs.job_runtime_env(packages, [])["pip"] == {"packages": ["rich", "six"], "pip_check": False}
    plain = cli.parse_job_args(["submit", "--", "true"])
    assert set(jobs.job_runtime_env(plain, [])) == {"working_dir", "excludes"}


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_a_runtime_env_that_is_no_json_object_is_refused(text):
    with pytest.raises(cli.UserError, match="--runtime-env-json"):
        cli.parse_job_args(["submit", "--runtime-env-json", text, "--", "true"])
