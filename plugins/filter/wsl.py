"""Filters for Windows PCs and WSL2 (logic and its tests: plugins/module_utils/wsl.py, tests/unit/plugins/module_utils/test_wsl.py)."""



from ansible_collections.ray_docker.cluster.plugins.module_utils import wsl


def wsl_merge_ini(text, settings):
    """{"text": merged INI text, "updates": ["section.key", ...]}: the user's other keys and comments kept."""
    merged, updates = wsl.merge_ini(text, settings)
    return {"text": merged, "updates": updates}


class FilterModule:
    def filters(self):
        return {
            "wsl_list_quiet": wsl.parse_wsl_list_quiet,
            "wsl_merge_ini": wsl_merge_ini,
            "wsl_parse_ini": wsl.parse_ini,
            "wsl_excluded_port_ranges": wsl.parse_excluded_port_ranges,
            "wsl_excluded_port_conflicts": wsl.excluded_port_conflicts,
            "wsl_windows_build": wsl.windows_build,
            "wsl_windows_problems": wsl.windows_problems,
            "wsl_firewall_rules": wsl.firewall_rules,
            "wsl_docker_engine_kind": wsl.docker_engine_kind,
            "wsl_windows_to_wsl_path": wsl.windows_to_wsl_path,
        }
