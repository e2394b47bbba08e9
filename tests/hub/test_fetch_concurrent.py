#!/usr/bin/env python3
"""Two fetch processes at once share the cache safely: the second waits on
the blob's lock, then finds the blob complete (the server sent the file
once). The lock is huggingface_hub's: .locks/models--ORG--NAME/<etag>.lock
with flock, so a Python tool holding it makes us wait too."""
import fcntl
import hashlib
import os
import time

import hubtest
from hubtest import DEFAULT, Hub, check, finish, last_line, wait_for

R = "acme/tiny-oss"
S1 = "model-00001-of-00002.safetensors"
hub = Hub("concurrent")
hub.add_repo(R, hubtest.standard_files())
data = hub.repos[R][S1]
sha = hashlib.sha256(data).hexdigest()
hub.start()
blobs = os.path.join(hub.repo_dir(R), "blobs")


try:
    # two processes, chunked and sequential, racing for the same blobs
    hub.config({"faults": [{"kind": "trickle", "match": sha, "after": 0, "chunk": 65536, "delay": 0.03,
                            "count": -1}]})
    a = hub.spawn(R, "--connections", "4", "--chunk-mb", "1")
    check(wait_for(lambda: os.path.exists(os.path.join(blobs, sha + ".gq-chunks.incomplete"))),
          "first process started the shard")
    b = hub.spawn(R, "--connections", "1")
    out_a, err_a = a.communicate(timeout=60)
    out_b, err_b = b.communicate(timeout=60)
    check(a.returncode == 0 and b.returncode == 0, "both exit 0", err_a + err_b)
    check(last_line(out_a) == last_line(out_b), "same snapshot")
    check("another process is downloading" in err_b and S1 in err_b, "second one said it waits", err_b)
    log = hub.log()
    g = [r for r in log if r["port"] == "cdn" and sha in r["path"]]
    check(sum(r["sent"] for r in g) == len(data), "the shard was served once in all", str(g))
    hub.check_snapshot(R, last_line(out_a), DEFAULT, "concurrent")

    # a lock held by another tool (Python's filelock uses flock on this very path)
    hub.config({})
    for f in os.listdir(blobs):
        os.unlink(os.path.join(blobs, f))
    lock = os.path.join(hub.cache, ".locks", "models--acme--tiny-oss", sha + ".lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    t0 = time.time()
    p = hub.spawn(R, "--include", S1)
    time.sleep(1.0)
    check(p.poll() is None, "waits while another tool holds the lock")
    fcntl.flock(fd, fcntl.LOCK_UN)
    out, err = p.communicate(timeout=30)
    check(p.returncode == 0 and time.time() - t0 >= 1.0, "finishes after the lock is released", err)
    hub.check_snapshot(R, last_line(out), [S1], "after lock")

    # Ctrl-C while waiting for that lock: stops promptly with 130
    os.unlink(os.path.join(blobs, sha))
    fcntl.flock(fd, fcntl.LOCK_EX)
    p = hub.spawn(R, "--include", S1)
    time.sleep(0.7)
    p.send_signal(__import__("signal").SIGINT)
    try:
        out, err = p.communicate(timeout=5)
        rc = p.returncode
    except Exception:
        p.kill()
        rc, err = -1, "did not stop"
    check(rc == 130, "interrupted while waiting for a lock: exit 130", "%s %s" % (rc, err))
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
finally:
    hub.stop()
finish("hub_fetch_concurrent")
