"""The operations files under Sources/incident-server/Deploy/: the Kubernetes manifests parse and hold what the README promises, the
ConfigMap's config starts the real server, and the systemd unit passes `systemd-analyze verify`."""
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import RunningServer, server_binary

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "Sources" / "incident-server" / "Deploy"


def manifests():
    documents = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "incident-server.yaml").read_text()) if d]
    return {document["kind"]: document for document in documents}


def test_kubernetes_manifests_parse_and_fit_together():
    kinds = manifests()
    assert set(kinds) == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    assert kinds["Service"]["spec"]["selector"] == labels
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9464"
    container = pod["spec"]["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"grpc": 9090, "metrics": 9464}
    assert "grpc_health_probe" in container["readinessProbe"]["exec"]["command"][0]
    # Probes go through gRPC health over mTLS, never the metrics port (a slow scrape must not fail a probe);
    # liveness and startup ask `liveness`, which does not depend on the database.
    for probe in ("livenessProbe", "startupProbe"):
        command = container[probe]["exec"]["command"]
        assert "grpc_health_probe" in command[0] and "-service=liveness" in command, probe
        assert "httpGet" not in container[probe], probe
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "incident-server-tls"
    assert volumes["config"]["configMap"]["name"] == kinds["ConfigMap"]["metadata"]["name"]
    config = yaml.safe_load(kinds["ConfigMap"]["data"]["config.yaml"])
    for path in config["server"]["tls"].values():
        assert path.startswith(mounts["tls"] + "/"), path
    probe_files = " ".join(container["readinessProbe"]["exec"]["command"])
    assert mounts["tls"] + "/probe.crt" in probe_files


def test_configmap_config_starts_the_server(pki, database_url, tmp_path):
    """The ConfigMap's config.yaml, with the test PKI in place of the mounted Secret, serves and stops cleanly."""
    config = tmp_path / "config.yaml"
    text = manifests()["ConfigMap"]["data"]["config.yaml"]
    text = text.replace("/etc/incident-manager/tls/server.crt", str(pki / "server.pem"))
    text = text.replace("/etc/incident-manager/tls/server.key", str(pki / "server.key"))
    text = text.replace("/etc/incident-manager/tls/ca.crt", str(pki / "ca.pem"))
    config.write_text(text)
    running = RunningServer(pki, database_url, tmp_path / "server.log", config=config)
    assert running.stop() == 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path):
    unit = (DEPLOY / "systemd" / "incident-server.service").read_text()
    # verify checks that ExecStart exists: point it at the binary under test.
    unit = unit.replace("/usr/local/bin/incident-server", server_binary())
    path = tmp_path / "incident-server.service"
    path.write_text(unit)
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    for setting in ("ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=on-failure", "LimitNOFILE="):
        assert re.search(rf"^{re.escape(setting)}", unit, re.M), setting
