"""Drives blackbox_exporter the way Prometheus does: one GET /probe?module=...&target=... per
target per interval, each target at its own fixed offset within the interval, and never two
scrapes of one target at once (a scrape still running when the next is due skips that turn, as
a Prometheus scrape loop does).

The driver runs in processes of its own (asyncio, raw HTTP/1.1 over keep-alive connections to
blackbox) so that neither its CPU nor its GIL is the benchmark's: it is cheap next to blackbox
and is measured separately. Counts are kept in shared memory, readable at any moment."""

import asyncio
import multiprocessing
import time
import urllib.parse

# Per shard and group: completed with probe_success 1, completed with probe_success 0.
# Per shard: turns skipped because the previous scrape of the target was still running, and
# scrapes that got no HTTP answer from blackbox at all.
_SUCCESS, _FAILURE = 0, 1
_SKIPPED, _ERRORS = 0, 1


def _dechunked(body):
    """The data of a complete chunked body. Go's HTTP server frames a response larger than its
    2,048-byte buffer as chunks, and blackbox's is ~2,070 bytes: the cut falls near its last
    lines, sometimes inside `probe_success 1`, which read as framed was then a failed probe."""
    data = bytearray()
    at = 0
    while True:
        line_end = body.index(b"\r\n", at)
        size = int(body[at:line_end].split(b";")[0], 16)
        if size == 0:
            return bytes(data)
        data += body[line_end + 2:line_end + 2 + size]
        at = line_end + 2 + size + 2


class _Connection(asyncio.Protocol):
    def __init__(self, driver):
        self.driver = driver
        self.transport = None
        self.target = None
        self.buffer = bytearray()
        self.body_start = -1
        self.length = -1  # Content-Length, or -1 while unknown / chunked
        self.chunked = False

    def connection_made(self, transport):
        self.transport = transport

    def send(self, target):
        self.target = target
        self.buffer.clear()
        self.body_start = -1
        self.length = -1
        self.chunked = False
        self.transport.write(self.driver.requests[target])

    def data_received(self, data):
        self.buffer += data
        if self.body_start < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.body_start = end + 4
            headers = bytes(self.buffer[:end]).lower()
            at = headers.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = headers.find(b"\r\n", at + 2)
                self.length = int(headers[at + 17:line_end if line_end >= 0 else None])
            else:
                self.chunked = b"transfer-encoding: chunked" in headers
        if self.length >= 0:
            if len(self.buffer) - self.body_start < self.length:
                return
        elif self.chunked:
            # Prometheus text never contains this sequence: it is the last chunk.
            if not self.buffer.endswith(b"\r\n0\r\n\r\n"):
                return
        else:
            return  # no framing: wait for the close
        target, self.target = self.target, None
        body = bytes(self.buffer[self.body_start:])
        if self.chunked:
            body = _dechunked(body)
        self.driver.completed(target, b"\nprobe_success 1\n" in b"\n" + body, self)

    def connection_lost(self, exc):
        self.driver.lost(self)
        if self.target is not None:
            target, self.target = self.target, None
            self.driver.failed(target)


class _Shard:
    def __init__(self, port, requests, groups, interval, start_at, counts, ngroups, stop):
        self.port = port
        self.requests = requests  # target index -> request bytes
        self.groups = groups  # target index -> group index
        self.interval = interval
        self.start_at = start_at
        self.counts = counts
        self.ngroups = ngroups
        self.stop = stop
        self.idle = []
        self.busy = set()
        self.in_flight = set()

    def completed(self, target, success, connection):
        self.in_flight.discard(target)
        self.counts[2 * self.groups[target] + (_SUCCESS if success else _FAILURE)] += 1
        self.busy.discard(connection)
        self.idle.append(connection)

    def failed(self, target):
        self.in_flight.discard(target)
        self.counts[2 * self.ngroups + _ERRORS] += 1

    def lost(self, connection):
        self.busy.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)

    async def _open_and_send(self, target):
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(self), "127.0.0.1",
                                                         self.port)
        except OSError:
            self.failed(target)
            return
        self.busy.add(connection)
        connection.send(target)

    def _dispatch(self, target):
        if target in self.in_flight:
            self.counts[2 * self.ngroups + _SKIPPED] += 1
            return
        self.in_flight.add(target)
        if self.idle:
            connection = self.idle.pop()
            self.busy.add(connection)
            connection.send(target)
        else:
            asyncio.get_running_loop().create_task(self._open_and_send(target))

    async def run(self, offsets):
        # offsets: (offset within the interval, target index), sorted.
        loop = asyncio.get_running_loop()
        if not offsets:
            return
        turn = 0
        cycle_start = self.start_at
        while not self.stop.value:
            now = loop.time()
            while True:
                offset, target = offsets[turn]
                due = cycle_start + offset
                if due > now:
                    break
                self._dispatch(target)
                turn += 1
                if turn == len(offsets):
                    turn = 0
                    cycle_start += self.interval
            await asyncio.sleep(min(due - now, 0.01))


def _run_shard(port, paths, groups, interval, start_at, shard, shards, counts, ngroups, stop):
    requests = [f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bhe-bench\r\n"
                f"Accept: text/plain\r\n\r\n".encode() for p in paths]
    offsets = sorted((i * interval / len(paths), i) for i in range(shard, len(paths), shards))
    runner = _Shard(port, requests, groups, interval, start_at, counts, ngroups, stop)
    asyncio.run(runner.run(offsets))


class PrometheusLikeDriver:
    """`targets`: list of (module, target URL, group index). Start, read counts(), stop."""

    def __init__(self, port, targets, ngroups, interval, shards=1):
        self.ngroups = ngroups
        context = multiprocessing.get_context("fork")
        self.stop_flag = context.RawValue("b", 0)
        paths = ["/probe?" + urllib.parse.urlencode({"module": m, "target": t})
                 for m, t, _ in targets]
        groups = [g for _, _, g in targets]
        start_at = time.monotonic() + 0.2
        self.shard_counts = []
        self.processes = []
        for shard in range(shards):
            counts = context.RawArray("q", 2 * ngroups + 2)
            self.shard_counts.append(counts)
            self.processes.append(context.Process(
                target=_run_shard, daemon=True,
                args=(port, paths, groups, interval, start_at, shard, shards, counts, ngroups,
                      self.stop_flag)))
        for p in self.processes:
            p.start()

    def counts(self):
        """{"success": [per group], "failure": [per group], "skipped": n, "errors": n}"""
        success = [0] * self.ngroups
        failure = [0] * self.ngroups
        skipped = errors = 0
        for c in self.shard_counts:
            for g in range(self.ngroups):
                success[g] += c[2 * g + _SUCCESS]
                failure[g] += c[2 * g + _FAILURE]
            skipped += c[2 * self.ngroups + _SKIPPED]
            errors += c[2 * self.ngroups + _ERRORS]
        return {"success": success, "failure": failure, "skipped": skipped, "errors": errors}

    def pids(self):
        return [p.pid for p in self.processes]

    def alive(self):
        return all(p.is_alive() for p in self.processes)

    def stop(self):
        self.stop_flag.value = 1
        for p in self.processes:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()

