"""Filters for Windows PCs and WSL2 (logic and its tests: raydeploy/wsl.py, tests/unit/test_wsl.py)."""

import sys
from pathlib import Path

PROJECT_ROOT = str(Path(__file__).resolve().parents[1])
if PROJECT_ROOT not in sys.path:  # the raydeploy package sits next to this folder
    sys.path.insert(0, PROJECT_ROOT)

from raydeploy import wsl  # noqa: E402


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
