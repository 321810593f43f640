"""What a run hands to whoever drives it (`ansible.builtin.set_stats`, read by runner.py from the playbook's stats):
every key in one table, which the roles' YAML and raydeploy/report.py both keep to (a unit test reads both).
"""

RUN_DATA = {
    "ray_platforms": "each Ray host's platform, as the probe saw it (preflight)",
    "ray_skipped_hosts": "worker hosts that did not answer and were left out (preflight)",
    "ray_degraded": "optional parts left out, and why (ray_image, registry_cache): the run ends degraded",
    "registry_cache_lines": "which source served each host's pulls (registry_cache)",
    "wsl_notes": "per host, what WSL needs from the user (wsl2, wsl_distro)",
    "ray_monitoring_urls": "Prometheus's and Grafana's URLs (ray_cluster's wait)",
    "ray_check": "the task/actor check's verdict (ray_check)",
    "ray_upgrade": "nodes given a new image: versions, downtime, steps, jobs waited for or stopped, actors lost (ray_cluster)",
    "ray_dashboard_url": "the dashboard as the control node reaches it (ray_check)",
    "ray_drain": "`drain`: the host, the tasks and actors running there, how long its nodes took to leave, those stopped busy at the deadline",
    "ray_logs": "`logs`: the archive written, its size, how many files, from which hosts",
    "ray_status": "the nodes, resources and URLs `status` reports (playbooks/status.yml)",
    "ray_job_target": "where `job` sends jobs: the Jobs API, the token's path, the Ray version (playbooks/job.yml)",
    "ray_job_kept_log": "`job logs` of a job whose head was replaced: the head host and the kept file (playbooks/job_logs.yml)",
}
