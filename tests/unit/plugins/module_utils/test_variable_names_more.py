"""The did-you-mean of a refused name reaches a typo that drops a word, not only one that drops a letter."""

from ansible_collections.ray_docker.cluster.plugins.module_utils import variable_names as names

KNOWN = {"ray_node_count", "docker_registry_mirrors", "docker_insecure_registries", "registry_cache_port",
         "wsl2_rootfs_urls"}
PREFIXES = names.prefixes(["ray", "docker", "registry_cache", "wsl2"])


def guess(name):
    messages = names.problems([name], KNOWN, set(), {}, PREFIXES)
    assert len(messages) == 1 and messages[0].startswith(f"{name} is no variable of any role"), messages
    return messages[0].partition("did you mean ")[2].partition("?")[0] or None


def test_a_name_with_a_word_left_out_still_names_the_variable_meant():
    assert guess("docker_mirrors") == "docker_registry_mirrors"
    assert guess("wsl2_rootfs") == "wsl2_rootfs_urls"


def test_a_name_too_far_from_every_variable_names_none():
    assert guess("ray_nodes") is None
    assert guess("docker_users_extra") is None
