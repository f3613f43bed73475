"""deploy/kubernetes: rendered by kustomize, every object valid against the Kubernetes
schema, every process a probed, resourced Deployment that reads what it is given."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import ROOT, image_layout, module_file, process_reads, python_module

KUSTOMIZATION = ROOT / "deploy" / "kubernetes"
PROCESSES = {
    "orchestrator",
    "charge-payment",
    "reserve-stock",
    "book-shipment",
    "emit-receipt",
    "review-desk",
    "order-view",
    "step-functions-api",
    "web-desk",
}
# The processes that serve HTTP of their own besides /healthz and /metrics: the variables
# that say where they listen, and the Service in front of them.
HTTP_SERVERS = {
    "step-functions-api": ("STEPSTREAM_STEP_FUNCTIONS_HOST", "STEPSTREAM_STEP_FUNCTIONS_PORT"),
    "web-desk": ("STEPSTREAM_DESK_HOST", "STEPSTREAM_DESK_PORT"),
}


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The rendered manifests, with secrets.env made from its example as an operator would."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    root = tmp_path_factory.mktemp("render")
    shutil.copytree(KUSTOMIZATION, root / "deploy" / "kubernetes")
    shutil.copytree(ROOT / "definitions", root / "definitions")
    shutil.copy(KUSTOMIZATION / "secrets.env.example", root / "deploy/kubernetes/secrets.env")
    rendered = subprocess.run(
        [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", "deploy/kubernetes"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _config_map(objects: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    [found] = [o for n, o in _by_kind(objects, "ConfigMap").items() if n.startswith(prefix + "-")]
    return found


def test_every_object_is_valid_for_kubernetes(objects: list[dict[str, Any]]) -> None:
    version = kubernetes_validate.utils.latest_version()
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        "stepstream"
    }


def test_every_process_is_a_replicated_deployment_probed_on_its_health_endpoint(
    objects: list[dict[str, Any]],
) -> None:
    deployments = _by_kind(objects, "Deployment")
    assert set(deployments) == PROCESSES
    port = int(_config_map(objects, "stepstream-config")["data"]["STEPSTREAM_HEALTH_PORT"])
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] >= 2, name
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["ports"][0] == {"name": "metrics", "containerPort": port}, name
        # Ready when connected, joined and answering; alive while the process answers at all.
        assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
        requests = container["resources"]["requests"]
        assert requests["cpu"] and requests["memory"], name
        assert _by_kind(objects, "PodDisruptionBudget")[name]["spec"]["minAvailable"] == 1


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_each_container_runs_a_module_of_the_image_and_reads_every_variable_it_gets(
    objects: list[dict[str, Any]],
) -> None:
    workdir, copies = image_layout()
    shared = set(_config_map(objects, "stepstream-config")["data"])
    for name, deployment in _by_kind(objects, "Deployment").items():
        container = _container(deployment)
        module = python_module(container["command"])
        assert module is not None, name
        found = module_file(module, copies, workdir)
        assert found is not None and found.is_file(), f"{name}: no {module} in the image"
        given = shared | {e["name"] for e in container["env"]}
        unread = given - process_reads(module)
        assert not unread, f"{name} ({module}) reads none of {sorted(unread)}"


def test_each_http_server_listens_on_the_port_its_service_reaches(
    objects: list[dict[str, Any]],
) -> None:
    settings = _config_map(objects, "stepstream-process-settings")
    services = _by_kind(objects, "Service")
    assert set(services) == set(HTTP_SERVERS)
    for name, (host_variable, port_variable) in HTTP_SERVERS.items():
        deployment = _by_kind(objects, "Deployment")[name]
        container = _container(deployment)
        env = {e["name"]: e["valueFrom"] for e in container["env"]}
        told = {}
        for variable in (host_variable, port_variable):
            ref = env[variable]["configMapKeyRef"]
            assert ref["name"] == settings["metadata"]["name"], name
            told[variable] = settings["data"][ref["key"]]
        assert told[host_variable] == "0.0.0.0", f"{name} listens inside its pod only"
        [http] = [p for p in container["ports"] if p["name"] == "http"]
        assert http["containerPort"] == int(told[port_variable]), name
        service = services[name]
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        [exposed] = service["spec"]["ports"]
        assert exposed["targetPort"] == "http", name


def test_the_step_functions_api_starts_only_with_the_key_pair_of_the_secret(
    objects: list[dict[str, Any]],
) -> None:
    settings = _config_map(objects, "stepstream-process-settings")["data"]
    env = {
        e["name"]: e["valueFrom"]
        for e in _container(_by_kind(objects, "Deployment")["step-functions-api"])["env"]
    }
    required = env["STEPSTREAM_STEP_FUNCTIONS_REQUIRE_SIGNATURES"]["configMapKeyRef"]["key"]
    assert settings[required] == "true"
    for variable in ("STEPSTREAM_AWS_ACCESS_KEY_ID", "STEPSTREAM_AWS_SECRET_ACCESS_KEY"):
        ref = env[variable]["secretKeyRef"]
        assert not ref.get("optional", False), variable


def test_the_processes_that_read_executions_are_given_the_orchestrator_store(
    objects: list[dict[str, Any]],
) -> None:
    deployments = _by_kind(objects, "Deployment")

    def store(name: str) -> Any:
        env = {e["name"]: e["valueFrom"] for e in _container(deployments[name])["env"]}
        return env.get("STEPSTREAM_STORE_URL")

    for name in ("review-desk", "order-view", "step-functions-api", "web-desk"):
        assert store(name) == store("orchestrator"), name


def test_secrets_reach_only_the_process_that_uses_them(objects: list[dict[str, Any]]) -> None:
    [secret] = _by_kind(objects, "Secret").values()
    keys = set(secret["data"])
    holders: dict[str, set[str]] = {}
    for name, deployment in _by_kind(objects, "Deployment").items():
        for env in _container(deployment)["env"]:
            ref = env["valueFrom"].get("secretKeyRef")
            if ref is not None:
                assert ref["name"] == secret["metadata"]["name"], name
                assert ref["key"] in keys, f"{name}: no key {ref['key']} in the secret"
                holders.setdefault(ref["key"], set()).add(name)
    assert holders["stripe-api-key"] == {"charge-payment"}
    assert holders["carrier-api-key"] == {"book-shipment"}
    assert holders["payments-database-url"] == {"charge-payment"}
    assert holders["aws-access-key-id"] == {"step-functions-api"}
    assert holders["aws-secret-access-key"] == {"step-functions-api"}
    assert holders["review-desk-database-url"] == {"review-desk", "web-desk"}
    assert base64.b64decode(secret["data"]["stripe-api-key"]).decode().startswith("sk_test_")


def test_the_orchestrator_registers_the_definitions_of_the_config_map(
    objects: list[dict[str, Any]],
) -> None:
    definitions = _config_map(objects, "stepstream-definitions")
    for file_name, text in definitions["data"].items():
        assert text == (ROOT / "definitions" / file_name).read_text()
    orchestrator = _by_kind(objects, "Deployment")["orchestrator"]
    pod = orchestrator["spec"]["template"]["spec"]
    [mount] = _container(orchestrator)["volumeMounts"]
    [volume] = pod["volumes"]
    assert volume["configMap"]["name"] == definitions["metadata"]["name"]
    settings = _config_map(objects, "stepstream-process-settings")["data"]
    for machine in json.loads(settings["state-machines"]):
        for key in ("definition", "bindings"):
            path = PurePosixPath(machine[key])
            assert path.parent == PurePosixPath(mount["mountPath"])
            assert path.name in definitions["data"]


def test_the_example_secrets_name_every_key_the_manifests_use() -> None:
    example = Path(KUSTOMIZATION / "secrets.env.example").read_text()
    named = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    used = set()
    for doc in yaml.safe_load_all((KUSTOMIZATION / "processes.yaml").read_text()):
        if doc and doc["kind"] == "Deployment":
            for env in _container(doc).get("env", []):
                if "secretKeyRef" in env["valueFrom"]:
                    used.add(env["valueFrom"]["secretKeyRef"]["key"])
    assert used == named
