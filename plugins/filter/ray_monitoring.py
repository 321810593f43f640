"""Filters for Prometheus and Grafana (logic and its tests: raydeploy/monitoring.py, tests/unit/test_monitoring.py)."""



from ansible_collections.ray_docker.cluster.plugins.module_utils import monitoring


def ray_prometheus_config(nodes, cluster_name, network_mode, addresses, metrics_port, head_ports, scrape_interval="10s"):
    """prometheus.yml (a dict) scraping `nodes` (ray_node_plan rows)."""
    node_targets, head_targets = monitoring.scrape_targets(nodes, network_mode, addresses, metrics_port, head_ports)
    return monitoring.prometheus_config(cluster_name, node_targets, head_targets, scrape_interval)


class FilterModule:
    def filters(self):
        return {
            "ray_prometheus_config": ray_prometheus_config,
            "ray_monitoring_files": monitoring.monitoring_files,
            "ray_monitoring_running": monitoring.running_monitoring_containers,
            "ray_monitoring_head_env": monitoring.head_env,
            "ray_prometheus_spec": monitoring.prometheus_spec,
            "ray_grafana_spec": monitoring.grafana_spec,
        }
