"""A bad value for every variable of every role: the e2e layer feeds them to a running cluster
(tests/e2e/test_bad_input.py), the unit layer checks the table covers every variable and that the settings check
refuses each value (tests/unit/test_bad_values.py). The port variables get theirs from the port table
(plugins/module_utils/ports.py): a new port needs no row here."""

from ansible_collections.ray_docker.cluster.plugins.module_utils import ports

BAD = {
    "docker": {
        "docker_install_source": "snap", "docker_distribution_packages": ["Docker IO"],
        "docker_upstream_packages": ["docker ce"], "docker_upstream_repository_url": "download.docker.com/linux",
        "docker_upstream_gpg_key_url": "ftp://download.docker.com/gpg", "docker_service_manager": "upstart",
        "docker_dockerd_pidfile": "docker.pid", "docker_dockerd_logfile": "logs/dockerd.log",
        "docker_registry_mirrors": ["mirror.example:5000/path"], "docker_insecure_registries": ["http://mirror:5000"],
        "docker_daemon_options": {"Log Driver": "json-file"}, "docker_daemon_config_file": "daemon.json",
        "docker_ready_timeout": 0, "docker_desktop_daemon_config_file": "daemon.json",
        "docker_desktop_restart": "when needed", "docker_desktop_ready_timeout": 0,
    },
    "ray": {
        "ray_version": "latest", "ray_node_count": 0, "ray_network_mode": "overlay", "ray_gcs_port": 70000,
        "ray_dashboard_port": 0, "ray_client_server_port": "http", "ray_node_manager_port": -1,
        "ray_object_manager_port": 65536, "ray_runtime_env_agent_port": "x", "ray_dashboard_agent_grpc_port": 0,
        "ray_dashboard_agent_listen_port": 99999, "ray_metrics_export_port": -6384, "ray_min_worker_port": 80,
        "ray_max_worker_port": 70000, "ray_auth_token_file": "relative/auth_token", "ray_auth_host_token_file": "token",
        "ray_dashboard_url": "127.0.0.1:8265", "ray_node_ip_address": "10.0.0.300",
        "ray_require_all_hosts": "maybe", "ray_gcs_fault_tolerance": "perhaps", "ray_gcs_redis_image": "redis",
        "ray_gcs_redis_port": 0, "ray_gcs_redis_password_file": "redis_password", "ray_gcs_reconnect_timeout": 0,
        "ray_container_log_max_size": "lots", "ray_container_log_max_files": 0,
        "ray_prometheus_image": "prom/prometheus", "ray_grafana_image": "grafana", "ray_prometheus_port": 0,
        "ray_grafana_port": 70000, "ray_dashboard_metrics_port": -1, "ray_autoscaler_metrics_port": "x",
    },
    "ray_image": {
        "ray_image_repository": "Ray Project/ray", "ray_image_tag": "2.60.0 cpu", "ray_image_pull_timeout": 1,
        "ray_image_pull_policy": "sometimes", "ray_image_pull_retries": 0, "ray_image_pull_delay": -1,
        "ray_image_archive": "/no/such/ray.tar", "ray_image_redis_archive": "/no/such/redis.tar",
        "ray_image_prometheus_archive": "/no/such/prometheus.tar", "ray_image_grafana_archive": "/no/such/grafana.tar",
        "ray_image_pip_packages": ["pandas; rm -rf /"], "ray_image_requirements_file": "/no/such/requirements.txt",
        "ray_image_apt_packages": ["Lib GL"], "ray_image_dockerfile": "/no/such/Dockerfile",
        "ray_image_pip_index_url": "pypi.internal/simple", "ray_image_pip_extra_index_urls": ["ftp://mirror/simple"],
        "ray_image_build_ca_file": "/no/such/ca.pem", "ray_image_build_http_proxy": "proxy:3128",
        "ray_image_build_https_proxy": "socks://proxy", "ray_image_build_no_proxy": "a b", "ray_image_build_timeout": 5,
        "ray_image_registry_image": "registry",
    },
    "ray_monitoring": {
        "ray_monitoring_enabled": "maybe", "ray_monitoring_grafana_enabled": "sometimes", "ray_monitoring_host": "no such host",
        "ray_monitoring_wait": "later", "ray_monitoring_retention": "forever", "ray_monitoring_scrape_interval": "10", "ray_monitoring_bind_address": "everywhere",
        "ray_monitoring_grafana_password_file": "grafana_password", "ray_monitoring_purge": "yes please",
        "ray_monitoring_ready_timeout": 0,
    },
    "ray_cluster": {
        "ray_cluster_name": "-ray", "ray_cluster_wait": "later", "ray_cluster_network": "my net", "ray_cluster_dashboard_bind_address": "localhost",
        "ray_cluster_shm_fraction": 0, "ray_cluster_shm_size": "lots", "ray_cluster_object_store_fraction": 1.5,
        "ray_cluster_object_store_memory": "10K", "ray_cluster_head_num_cpus": -1, "ray_cluster_worker_num_cpus": -2,
        "ray_cluster_head_memory": "1K", "ray_cluster_worker_memory": "x", "ray_cluster_host_gpus": -1,
        "ray_cluster_head_num_gpus": -1, "ray_cluster_worker_num_gpus": 65, "ray_cluster_reserved_memory": "-1G",
        "ray_cluster_overcommit": "often", "ray_cluster_nofile_limit": -1,
        "ray_cluster_extra_start_args": ["num-cpus=2"], "ray_cluster_env": {"1X": "y"},
        "ray_cluster_upgrade_wait_seconds": -1, "ray_cluster_upgrade_stop_jobs": "if needed",
        "ray_cluster_drain_deadline": 7200, "ray_cluster_drain_host": "two hosts",
        "ray_cluster_data_dir": "data", "ray_cluster_spill_dir": "spill", "ray_cluster_log_limit_mb": 1,
        "ray_cluster_log_retention_days": 0, "ray_cluster_min_free_gb": -1, "ray_cluster_purge_data": "please",
        "ray_cluster_logs_since": "yesterday", "ray_cluster_logs_file": "logs.zip",
        "ray_cluster_compare_all": "twice", "ray_cluster_wait_timeout": -5,
    },
    "registry_cache": {
        "registry_cache_enabled": "maybe", "registry_cache_min_hosts": 0, "registry_cache_host": "no such host",
        "registry_cache_address": "cache host", "registry_cache_port": 80, "registry_cache_upstream": "mirror.example",
        "registry_cache_data_dir": "cache", "registry_cache_config_dir": "etc/cache", "registry_cache_log_dir": "log",
        "registry_cache_package": "Docker Registry", "registry_cache_ready_timeout": 0, "registry_cache_log_max_mb": 0, "registry_cache_purge": "yes please",
    },
    "preflight": {"preflight_pending_hosts": "pc-1-wsl", "preflight_foreign_variables": ["docker users!"],
                  "preflight_measure_data_dir": "sometimes"},
    "ray_check": {
        "ray_check_timeout": 5, "ray_check_node_wait": -1, "ray_check_verdict_file": "verdict.json",
        "ray_check_reuse_verdict": "sometimes", "ray_check_imports": ["import os"],
    },
    "wsl_distro": {
        "wsl_distro_applies": "perhaps", "wsl_distro_conf": {"1boot": {"systemd": True}},
        "wsl_distro_conf_file": "wsl.conf", "wsl_distro_ssh_port": 70000, "wsl_distro_keep_alive": "always",
        "wsl_distro_name": "Ubuntu 24.04", "wsl_distro_remove": "yes please",
    },
    "wsl2": {
        "wsl2_distro_host": "pc one", "wsl2_msi_version": "latest", "wsl2_msi_url": "github.com/microsoft/WSL",
        "wsl2_msi_sha256": "abc", "wsl2_msi_file": "/no/such/wsl.msi", "wsl2_distribution": "Ubuntu 24.04",
        "wsl2_rootfs_urls": ["ftp://example/ubuntu.wsl"], "wsl2_known_hosts_file": "known_hosts",
        "wsl2_ssh_wait_timeout": 1, "wsl2_firewall_remote_addresses": ["the lab"], "wsl2_rootfs_sha256": "z" * 64, "wsl2_rootfs_file": "/no/such.wsl",
        "wsl2_install_dir": "WSL/ray", "wsl2_download_dir": "downloads", "wsl2_memory": "lots",
        "wsl2_processors": -2, "wsl2_swap": "some", "wsl2_networking_mode": "bridged",
        "wsl2_wslconfig_extra": {"wsl 2": {"x": 1}}, "wsl2_ssh_port": 0, "wsl2_ssh_public_key_file": "/no/such/key.pub",
        "wsl2_task_logon_type": "interactive", "wsl2_task_password": ["not", "a", "string"],
        "wsl2_firewall": "open", "wsl2_prevent_sleep": "no thanks", "wsl2_firewall_profiles": ["office"],
        "wsl2_remove": "everything", "wsl2_remove_distribution": 2,
    },
}


# Each port of the table without a bad value above gets one (a new port needs no row here).
_PORT_BAD_VALUES = (0, 70000, -1, "x")
for _index, _port in enumerate(ports.PORTS):
    _role = next((role for role in ("registry_cache", "ray_image") if _port.variable.startswith(role + "_")), "ray")
    BAD[_role].setdefault(_port.variable, _PORT_BAD_VALUES[_index % len(_PORT_BAD_VALUES)])
