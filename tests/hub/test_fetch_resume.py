#!/usr/bin/env python3
"""Resume across processes: a fetch killed with SIGKILL mid-file leaves its
partial data, and the next fetch asks only for the missing bytes (the
server's log proves it), sequential and chunked; a prefix left by another
tool in blobs/<etag>.incomplete (huggingface_hub's convention) is resumed."""
import hashlib
import os
import signal
import time

import hubtest
from hubtest import Hub, check, finish, last_line, wait_for

R = "acme/tiny-oss"
S1 = "model-00001-of-00002.safetensors"
hub = Hub("resume")
hub.add_repo(R, hubtest.standard_files())
data = hub.repos[R][S1]
size = len(data)
sha = hashlib.sha256(data).hexdigest()
hub.start()
blobs = os.path.join(hub.repo_dir(R), "blobs")


def fsize(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def cdn_gets(log, since):
    """GETs of the shard that STARTED after `since` (the killed run's last request is logged late)."""
    return [r for r in log if r["port"] == "cdn" and sha in r["path"] and r["method"] == "GET" and r["t0"] >= since]


try:
    # sequential: kill at > 1.5 MB, resume from exactly the prefix on disk
    part = os.path.join(blobs, sha + ".incomplete")
    hub.config({"faults": [{"kind": "trickle", "match": sha, "after": 1500000, "chunk": 8192, "delay": 0.02,
                            "count": -1}]})
    proc = hub.spawn(R, "--include", S1, "--connections", "1")
    check(wait_for(lambda: fsize(part) > 1600000), "sequential: partial file grows")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    have = fsize(part)
    check(not os.path.exists(os.path.join(blobs, sha)), "sequential: no blob after the kill")
    hub.config({})
    hub.clear_log()
    since = time.time()
    p = hub.fetch(R, "--include", S1, "--connections", "1", "--no-progress")
    check(p.returncode == 0, "sequential: resumed fetch succeeds", p.stderr)
    g = cdn_gets(hub.log(), since)
    check(len(g) == 1 and g[0]["range"] == "bytes=%d-" % have, "sequential: asked from the prefix on",
          "%s vs %d" % (g, have))
    check(len(g) == 1 and g[0]["sent"] == size - have, "sequential: only the missing bytes came",
          str(g))
    hub.check_snapshot(R, last_line(p.stdout), [S1], "sequential resume")

    # chunked: kill mid-way, resume each chunk from its recorded progress
    os.unlink(os.path.join(blobs, sha))
    state = os.path.join(blobs, sha + ".gq-chunks.state")
    hub.config({"faults": [{"kind": "trickle", "match": sha, "after": 300000, "chunk": 8192, "delay": 0.05,
                            "count": -1}]})
    proc = hub.spawn(R, "--include", S1, "--connections", "4", "--chunk-mb", "1")

    def recorded():
        try:
            lines = open(state).read().split("\n")[1:]
            return sum(int(l.split()[2]) for l in lines if l.strip())
        except (OSError, ValueError, IndexError):
            return 0

    check(wait_for(lambda: recorded() > 1400000), "chunked: progress recorded")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lines = [l.split() for l in open(state).read().split("\n")[1:] if l.strip()]
    chunks = [(int(a), int(b), int(c)) for a, b, c in lines]
    done = sum(c for _, _, c in chunks)
    check(fsize(os.path.join(blobs, sha + ".gq-chunks.incomplete")) == size, "chunked: sparse partial, full size")
    hub.config({})
    hub.clear_log()
    since = time.time()
    p = hub.fetch(R, "--include", S1, "--connections", "4", "--chunk-mb", "1", "--no-progress")
    check(p.returncode == 0, "chunked: resumed fetch succeeds", p.stderr)
    g = cdn_gets(hub.log(), since)
    want = sorted("bytes=%d-%d" % (a + c, b - 1) for a, b, c in chunks if a + c < b)
    check(sorted(r["range"] for r in g) == want, "chunked: each chunk resumed where recorded",
          "%s vs %s" % (sorted(r["range"] for r in g), want))
    check(sum(r["sent"] for r in g) == size - done, "chunked: only the missing bytes came")
    hub.check_snapshot(R, last_line(p.stdout), [S1], "chunked resume")
    check(not os.path.exists(state), "chunked: progress file removed")

    # a prefix left by another tool (huggingface_hub writes <etag>.incomplete sequentially)
    os.unlink(os.path.join(blobs, sha))
    with open(part, "wb") as f:
        f.write(data[:1048576])
    hub.clear_log()
    since = time.time()
    p = hub.fetch(R, "--include", S1, "--no-progress")
    check(p.returncode == 0, "foreign prefix: fetch succeeds", p.stderr)
    g = cdn_gets(hub.log(), since)
    check(len(g) == 1 and g[0]["range"] == "bytes=1048576-", "foreign prefix: resumed with Range", str(g))
    hub.check_snapshot(R, last_line(p.stdout), [S1], "foreign prefix")

    # a wrong prefix (not this file's bytes): caught by sha256, refetched from zero
    os.unlink(os.path.join(blobs, sha))
    with open(part, "wb") as f:
        f.write(b"\0" * 1048576)
    p = hub.fetch(R, "--include", S1, "--no-progress")
    check(p.returncode == 0 and "mismatch" in p.stderr, "bad prefix: detected and refetched", p.stderr)
    hub.check_snapshot(R, last_line(p.stdout), [S1], "bad prefix")

    # SIGINT: exits 130 promptly and keeps the partial for next time
    os.unlink(os.path.join(blobs, sha))
    hub.config({"faults": [{"kind": "trickle", "match": sha, "after": 500000, "chunk": 8192, "delay": 0.02,
                            "count": -1}]})
    proc = hub.spawn(R, "--include", S1, "--connections", "1")
    check(wait_for(lambda: fsize(part) > 600000), "sigint: partial grows")
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=5)
    except Exception:
        proc.kill()
        rc = -1
    err = proc.stderr.read()
    check(rc == 130 and "resume" in err, "sigint: exit 130 with a hint", "%s %s" % (rc, err))
    check(fsize(part) > 600000, "sigint: partial kept")
    hub.config({})
finally:
    hub.stop()
finish("hub_fetch_resume")
