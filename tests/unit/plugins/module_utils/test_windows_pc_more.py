"""Windows PCs (plugins/module_utils/windows_pc.py): a network category the code does not know counts as Public, and
the way back deletes only a .wslconfig its record says the role created."""

import base64
import json

from ansible_collections.ray_docker.cluster.plugins.module_utils import windows_pc

PROFILES = ["domain", "private"]
SETTINGS = {"wsl2_distribution": "ray-node", "wsl2_install_dir": "", "wsl2_download_dir": ""}
MADE = "[wsl2]\nnetworkingMode=mirrored\nvmIdleTimeout=-1\n"


def reached(category):
    return {"server_address": "10.0.0.21",
            "interfaces": [{"index": 12, "alias": "Ethernet", "category": category, "addresses": ["10.0.0.21"]}]}


def test_a_network_category_windows_may_add_later_is_refused_like_public():
    """NLM_NETWORK_CATEGORY has 0-2 today; anything else must not slip past as covered by the rules."""
    problems = windows_pc.network_problems(reached(3), PROFILES)
    assert len(problems) == 1 and "in the Public firewall profile" in problems[0]
    assert "Set-NetConnectionProfile -InterfaceIndex 12 -NetworkCategory Private" in problems[0]
    assert windows_pc.network_problems(reached(1), PROFILES) == []
    assert windows_pc.network_problems(reached(3), PROFILES + ["public"]) == []


def way_back(record):
    state = {"wslconfig_text": MADE, "wslconfig_encoding": "utf-8", "profile": "C:\\Users\\raylab",
             "local_app_data": "C:\\Users\\raylab\\AppData\\Local", "distributions": [],
             "record_b64": base64.b64encode(json.dumps(record).encode()).decode()}
    return windows_pc.removal_plan(state, SETTINGS)["wslconfig"]


def test_the_way_back_keeps_a_wslconfig_unless_its_record_says_the_role_created_it():
    keys = {"wsl2.networkingmode": {"before": None, "set": "mirrored"}, "wsl2.vmidletimeout": {"before": None, "set": "-1"}}
    unknown = way_back({"wslconfig": keys})  # a record that does not say whether the file was there before
    assert unknown["restore"] and unknown["restored"] == ["wsl2.networkingmode", "wsl2.vmidletimeout"]
    assert not unknown["delete"], "emptied, but maybe the user's own file: keep it"
    assert not way_back({"wslconfig": keys, "wslconfig_existed": True})["delete"]
    assert way_back({"wslconfig": keys, "wslconfig_existed": False})["delete"]
