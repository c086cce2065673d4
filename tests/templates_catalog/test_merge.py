"""The derivation rules (§4.4), table-driven: what a pod ends up with from its templates."""
import pytest

from podspec.merge import derive, merge_templates

DEFAULT_NET = {"default": {"protocol": "http", "port": 5000}}
DEFAULT_RES = {"cpu_request": 250, "cpu_limit": 2000, "mem_request": 256, "mem_limit": 3072, "gpus": 0}


def pod(**fields):
    """A pod's stored fields as pod_create writes them (defaults materialised)."""
    base = {"image": "", "description": "", "command": None, "arguments": None, "environment_variables": {},
            "volume_mounts": {}, "time_to_stop_default": 43200, "time_to_stop_instance": None,
            "networking": DEFAULT_NET, "resources": DEFAULT_RES, "compute_queue": "default"}
    return {**base, **fields}


# (case, pod fields, modified_fields, chain deepest first, field, expected value, expected source)
CASES = [
    ("template image when the user set none", {}, [], [{"image": "neo4j:5"}], "image", "neo4j:5", "template"),
    ("user image wins", {"image": "neo4j:4"}, ["image"], [{"image": "neo4j:5"}], "image", "neo4j:4", "pod"),
    ("closer template wins over deeper", {}, [], [{"image": "a"}, {"image": "b"}], "image", "b", "template"),
    ("deeper template fills what closer leaves", {}, [], [{"image": "a"}, {"description": "x"}], "image", "a",
     "template"),
    ("unset in every template: pod default", {}, [], [{"image": "a"}], "description", "", "default"),
    ("null in a template sets nothing", {}, [], [{"image": "a"}, {"image": None}], "image", "a", "template"),
    ("env is merged key by key, pod keys win",
     {"environment_variables": {"B": "pod", "C": "pod"}}, ["environment_variables"],
     [{"environment_variables": {"A": "deep", "B": "deep"}}, {"environment_variables": {"B": "close"}}],
     "environment_variables", {"A": "deep", "B": "pod", "C": "pod"}, "pod"),
    ("env from templates only", {}, [],
     [{"environment_variables": {"A": "1"}}, {"environment_variables": {"B": "2"}}],
     "environment_variables", {"A": "1", "B": "2"}, "template"),
    ("resources per key: template over defaults", {}, [], [{"resources": {"mem_limit": 4096}}], "resources",
     {**DEFAULT_RES, "mem_limit": 4096}, "template"),
    ("resources per key: the user's key wins, others from the template",
     {"resources": {**DEFAULT_RES, "cpu_limit": 3000}}, ["resources.cpu_limit"],
     [{"resources": {"cpu_limit": 1000, "mem_limit": 4096}}], "resources",
     {**DEFAULT_RES, "cpu_limit": 3000, "mem_limit": 4096}, "pod"),
    ("resources: closer template key over deeper", {}, [],
     [{"resources": {"cpu_limit": 1000, "gpus": 1}}, {"resources": {"cpu_limit": 1500}}], "resources",
     {**DEFAULT_RES, "cpu_limit": 1500, "gpus": 1}, "template"),
    ("networking from the template replaces the pod's untouched default", {}, [],
     [{"networking": {"bolt": {"protocol": "tcp", "port": 7687}}}], "networking",
     {"bolt": {"protocol": "tcp", "port": 7687}}, "template"),
    ("networking the user set is merged over the template's, entry by entry",
     {"networking": {"browser": {"protocol": "http", "port": 8080}}}, ["networking"],
     [{"networking": {"browser": {"protocol": "http", "port": 7474}, "bolt": {"protocol": "tcp", "port": 7687}}}],
     "networking", {"browser": {"protocol": "http", "port": 8080}, "bolt": {"protocol": "tcp", "port": 7687}},
     "pod"),
    ("networking entries across templates", {}, [],
     [{"networking": {"a": {"port": 1000}}}, {"networking": {"b": {"port": 2000}}}], "networking",
     {"a": {"port": 1000}, "b": {"port": 2000}}, "template"),
    ("no template networking: the pod's", {}, [], [{"image": "x"}], "networking", DEFAULT_NET, "default"),
    ("volume mounts merged by path", {"volume_mounts": {"/b": {"type": "ephemeral"}}}, ["volume_mounts"],
     [{"volume_mounts": {"/a": {"type": "ephemeral"}}}], "volume_mounts",
     {"/a": {"type": "ephemeral"}, "/b": {"type": "ephemeral"}}, "pod"),
    ("a null mount removes the template's", {"volume_mounts": {"/a": None}}, ["volume_mounts"],
     [{"volume_mounts": {"/a": {"type": "ephemeral"}, "/c": {"type": "ephemeral"}}}], "volume_mounts",
     {"/c": {"type": "ephemeral"}}, "pod"),
    ("a null mount with nothing to remove disappears", {"volume_mounts": {"/a": None}}, ["volume_mounts"], [],
     "volume_mounts", {}, "pod"),
    ("command from the template", {}, [], [{"command": ["run"]}], "command", ["run"], "template"),
    ("the user's command wins", {"command": ["mine"]}, ["command"], [{"command": ["run"]}], "command", ["mine"],
     "pod"),
    ("user set a value equal to the default: still wins", {"time_to_stop_default": 43200},
     ["time_to_stop_default"], [{"time_to_stop_default": 600}], "time_to_stop_default", 43200, "pod"),
    ("template time_to_stop when the user set none", {}, [], [{"time_to_stop_default": 600}],
     "time_to_stop_default", 600, "template"),
    ("compute queue from the template", {}, [], [{"compute_queue": "gpu"}], "compute_queue", "gpu", "template"),
    ("no templates: the pod as stored", {"image": "x"}, ["image"], [], "image", "x", "pod"),
]


@pytest.mark.parametrize("case,pod_fields,modified,chain,field,expected,source", CASES, ids=[c[0] for c in CASES])
def test_merge_rules(case, pod_fields, modified, chain, field, expected, source):
    fields, provenance = derive(pod(**pod_fields), modified, chain)
    assert fields[field] == expected
    assert provenance[field] == source


def test_merge_does_not_mutate_inputs():
    chain = [{"environment_variables": {"A": "1"}, "resources": {"cpu_limit": 1000}}]
    stored = pod(environment_variables={"B": "2"})
    derive(stored, ["environment_variables"], chain)
    assert chain == [{"environment_variables": {"A": "1"}, "resources": {"cpu_limit": 1000}}]
    assert stored["environment_variables"] == {"B": "2"}


def test_merge_templates_ignores_unknown_and_template_keys():
    assert merge_templates([{"template": "base:latest@2025-01-01-00:00:00", "image": "x", "bogus": 1}]) == {"image": "x"}
