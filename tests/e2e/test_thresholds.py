"""Thresholds against a real peer whose answers are scripted request by request:
unhealthy_threshold=3 keeps a server healthy through two failures and flips it on the third;
healthy_threshold=2 needs two successes back."""

from harness import Exporter, TcpPeer, run_tests, scripted_http, wait_until

SCRIPT = [200, 500, 500, 200, 500, 500, 500, 200, 200, 200]


def test_thresholds():
    behaviour = scripted_http(SCRIPT)
    peer = TcpPeer(behaviour)
    config = f"""
[[backend_pool]]
name = "p"
servers = ["127.0.0.1"]
backend_settings = ["s"]

[[backend_settings]]
name = "s"
port = {peer.port}
probe = "scripted"

[[probe]]
name = "scripted"
interval = "200ms"
timeout = "2s"
unhealthy_threshold = 3
healthy_threshold = 2
"""
    try:
        with Exporter(config) as exporter:
            # Observe the state after each scripted answer: wait until the exporter has
            # completed exactly n probes, then read the state.
            states = []
            for n in range(1, len(SCRIPT) + 1):
                m = exporter.wait_for(
                    lambda m: sum(v for _, v in m.select("backend_health_probes_total")) >= n,
                    what=f"probe {n}")
                total = sum(v for _, v in m.select("backend_health_probes_total"))
                if total != n:  # a scrape can land after two probes: re-read the log instead
                    break
                state = [l["state"] for l, v in m.select("backend_health_server_state")
                         if v == 1][0]
                states.append(state)
            changes = [(e["old_state"], e["new_state"], e["reason"])
                       for e in exporter.state_changes(pool="p")]
            # req1 200 -> healthy; two 500s keep it healthy; 200; three 500s flip it on the
            # third; one 200 is not enough with healthy_threshold=2; the second brings it back.
            assert changes == [("unknown", "healthy", ""),
                               ("healthy", "unhealthy", "http_status_mismatch"),
                               ("unhealthy", "healthy", "")], changes
            wait_until(lambda: len(behaviour.served) >= len(SCRIPT), what="whole script served")
            m = exporter.scrape()
            assert m.value("backend_health_state_changes_total") == 3
            # Where the scrapes were fast enough to see every step, check each one.
            expected = ["healthy", "healthy", "healthy", "healthy", "healthy", "healthy",
                        "unhealthy", "unhealthy", "healthy", "healthy"]
            assert states == expected[:len(states)], states
            assert len(states) >= 3, "scrapes too slow to observe the first steps"
    finally:
        peer.close()


if __name__ == "__main__":
    run_tests([test_thresholds])
