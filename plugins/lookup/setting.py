"""Lookup plugin ray_docker.cluster.setting: a variable of the collection, resolved and typed like the plans do."""

DOCUMENTATION = r"""
name: setting
short_description: A variable of the collection's roles, resolved and typed
version_added: 1.0.0
author: ray-docker maintainers
description:
  - Returns each named variable as the roles see it on this host, the user's value (inventory, play, extra vars) or
    else its owning role's default, even when that role is not in the play, typed as its argument spec says (so
    C(ray_gcs_fault_tolerance) given as the string C(false) reads as false).
  - For a task that needs another role's setting, for example the cluster's name in the monitoring role's C(down).
options:
  _terms:
    description: Variable names.
    required: true
"""

EXAMPLES = r"""
- name: Say where Grafana listens
  ansible.builtin.debug:
    msg: "Grafana listens on {{ lookup('ray_docker.cluster.setting', 'ray_grafana_port') }}"
"""

RETURN = r"""
_raw:
  description: The values, in the order of the names.
  type: list
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.ray_docker.cluster.plugins.plugin_utils import role_settings


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        names = [str(term) for term in terms]
        try:
            values = role_settings.resolve(self, variables or {}, names)
        except ValueError as exc:
            raise AnsibleLookupError(str(exc))
        missing = [name for name in names if name not in values]
        if missing:
            raise AnsibleLookupError(f"no role of ray_docker.cluster defines {', '.join(missing)}")
        return [values[name] for name in names]
