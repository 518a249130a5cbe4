"""/backend-health, field by field against a fixture of Application Gateway's BackendHealth
response: every Azure field (but resource IDs) exists with the same JSON type and value domain,
plus our own fields (reason, category, details, hint, since, lastProbe) with theirs."""

import json
import os
import re

from harness import Exporter, Nginx, free_port, refused_port, run_tests

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "azure-backend-health.json")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEALTH = {"Healthy", "Unhealthy", "Unknown"}


def paths(value, prefix=""):
    """(path, json type) for every leaf and container, arrays as []."""
    kind = type(value).__name__
    yield prefix, kind
    if isinstance(value, dict):
        for k, v in value.items():
            if not k.startswith("_"):
                yield from paths(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list):
        for v in value:
            yield from paths(v, prefix + "[]")


def normalize(path):
    return re.sub(r"^backendAddressPools\[\]\.(backendHttpSettingsCollection\[\]\.)?", "", path)


def test_shape_matches_azure_fixture():
    with open(FIXTURE) as f:
        fixture = json.load(f)
    azure_only = set(fixture["_azure_only"])
    port = free_port()
    nginx = Nginx(f'listen 127.0.0.2:{port}; location = / {{ return 200 "OK"; }}',
                  listen=f"127.0.0.1:{port}")
    closed = refused_port()
    config = f"""
[[backend_pool]]
name = "appGatewayBackendPool"
servers = ["127.0.0.1", "127.0.0.2"]
backend_settings = ["appGatewayBackendHttpSettings", "closed"]
[[backend_settings]]
name = "appGatewayBackendHttpSettings"
port = {port}
probe = "p"
[[backend_settings]]
name = "closed"
port = {closed}
probe = "p"
[[probe]]
name = "p"
interval = "1s"
timeout = "1s"
"""
    try:
        with Exporter(config) as exporter:
            exporter.wait_for(lambda m: sum(v for _, v in m.select(
                "backend_health_pool_servers", state="unknown")) == 0, what="every server probed")
            doc = exporter.json("/backend-health")
    finally:
        nginx.close()

    ours = dict(paths(doc))
    for path, kind in paths(fixture):
        if not path or normalize(path) in azure_only or any(
                path.startswith(p) for p in ("backendAddressPools[].backendHttpSettingsCollection"
                                             "[].servers[].ipConfiguration",)):
            continue
        assert path in ours, f"Azure field {path} missing from /backend-health"
        assert ours[path] == kind, f"{path}: {ours[path]} instead of Azure's {kind}"

    pools = doc["backendAddressPools"]
    assert [p["backendAddressPool"]["name"] for p in pools] == ["appGatewayBackendPool"]
    collection = pools[0]["backendHttpSettingsCollection"]
    assert [c["backendHttpSettings"]["name"] for c in collection] == [
        "appGatewayBackendHttpSettings", "closed"]
    healthy, failing = collection[0]["servers"], collection[1]["servers"]
    assert [s["address"] for s in healthy] == ["127.0.0.1", "127.0.0.2"]
    for server in healthy + failing:
        assert server["health"] in HEALTH, server
        assert isinstance(server["healthProbeLog"], str) and server["healthProbeLog"], server
        assert ISO_MS.match(server["since"]), server["since"]
        assert isinstance(server["details"], str)
        assert isinstance(server["consecutiveFailures"], int)
        last = server["lastProbe"]
        assert ISO_MS.match(last["time"]), last
        assert isinstance(last["success"], bool) and isinstance(last["httpStatus"], int)
        assert set(last["durationSeconds"]) == {"dns", "connect", "tls", "http", "total"}
        assert all(isinstance(v, (int, float)) for v in last["durationSeconds"].values())
    for server in healthy:
        assert server["health"] == "Healthy"
        assert server["healthProbeLog"] == "Success. Received 200 status code"
        assert server["reason"] is None and server["category"] is None and server["hint"] is None
    for server in failing:
        assert server["health"] == "Unhealthy"
        assert server["reason"] == "tcp_connect_error" and server["category"] == "tcp"
        assert server["healthProbeLog"].startswith("The exporter could not open a TCP connection")
        assert server["details"] in server["healthProbeLog"]
        assert server["hint"].startswith("Check that the application listens")
        assert server["lastProbe"]["result"] == "tcp_connect_error"


if __name__ == "__main__":
    run_tests([test_shape_matches_azure_fixture])
