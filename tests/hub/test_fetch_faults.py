#!/usr/bin/env python3
"""Every server fault the hub client must survive (or report clearly):
connection dropped mid-body, corrupted bytes (once / always), 5xx bursts,
429 + Retry-After, 200 instead of 206 (chunked and sequential), a slow
trickle (stall detection), parallel Range chunks, hostile file names,
too little disk space."""
import hashlib
import os

import hubtest
from hubtest import DEFAULT, Hub, body_bytes, check, finish, last_line

R = "acme/tiny-oss"
S1 = "model-00001-of-00002.safetensors"
S2 = "model-00002-of-00002.safetensors"
hub = Hub("faults")
hub.add_repo(R, hubtest.standard_files())
size1 = len(hub.repos[R][S1])
size2 = len(hub.repos[R][S2])
sha1 = hashlib.sha256(hub.repos[R][S1]).hexdigest()
hub.start()
case_no = [0]


def run(cfg, *args, **env):
    """A fresh cache, the given faults, one fetch."""
    case_no[0] += 1
    cache = os.path.join(hub.dir, "c%d" % case_no[0])
    hub.config(cfg)
    hub.clear_log()
    env.setdefault("HF_HUB_CACHE", cache)
    p = hub.fetch(R, "--no-progress", *args, env=hub.env(**env))
    return p, hub.log(), cache


def gets(log, match, port="cdn"):
    return [r for r in log if r["port"] == port and match in r["path"] and r["method"] == "GET"]


try:
    # connection dropped mid-body: resumed with Range from where it stopped
    p, log, _ = run({"faults": [{"kind": "drop", "match": "/lfs/", "after": 1000000, "count": 1}]},
                    "--connections", "1")
    check(p.returncode == 0, "drop: fetch succeeds", p.stderr)
    hub.check_snapshot(R, last_line(p.stdout), DEFAULT, "drop")
    g = gets(log, hashlib.sha256(hub.repos[R][S1]).hexdigest())
    check(len(g) == 2 and g[0]["sent"] == 1000000, "drop: two requests, first cut at 1 MB", str(g))
    if len(g) == 2:
        check(g[1]["range"] == "bytes=1000000-", "drop: resumed at the cut", str(g[1]["range"]))
    check(body_bytes(log, sha1) == size1, "drop: no byte fetched twice", str(body_bytes(log, sha1)))

    # corrupted once: detected by sha256, deleted, fetched again
    p, log, cache = run({"faults": [{"kind": "corrupt", "match": sha1, "offset": 12345, "count": 1}]})
    check(p.returncode == 0, "corrupt once: fetch succeeds", p.stderr)
    check("mismatch" in p.stderr and sha1 in p.stderr, "corrupt once: reported", p.stderr)
    hub.check_snapshot(R, last_line(p.stdout), DEFAULT, "corrupt once")

    # corrupted always: fails naming the file and both hashes, nothing left behind
    p, log, cache = run({"faults": [{"kind": "corrupt", "match": sha1, "offset": 5, "count": -1}]})
    check(p.returncode == 6, "corrupt always: exit 6", "%d %s" % (p.returncode, p.stderr))
    check(S1 in p.stderr and sha1 in p.stderr and "got" in p.stderr, "corrupt always: names file and hashes",
          p.stderr)
    blobs = os.path.join(hub.repo_dir(R).replace(hub.cache, cache), "blobs")
    left = [b for b in os.listdir(blobs) if b.startswith(sha1)] if os.path.isdir(blobs) else []
    check(left == [], "corrupt always: no blob or partial left", str(left))
    check(len(gets(log, sha1)) == 2, "corrupt always: exactly one retry", str(len(gets(log, sha1))))

    # a burst of 503 on the hub: retried
    p, log, _ = run({"faults": [{"kind": "status", "code": 503, "match": "/resolve/main/config.json",
                                 "count": 3}]}, "--include", "config.json", "--revision", "main")
    check(p.returncode == 0, "503 burst: fetch succeeds", p.stderr)
    # (the client resolves at the commit, so match on the API too)
    p, log, _ = run({"faults": [{"kind": "status", "code": 503, "match": "/api/", "count": 3}]})
    check(p.returncode == 0, "503 burst on the API: succeeds", p.stderr)
    check(len([r for r in log if r["status"] == 503]) == 3, "503 burst: three failures seen")
    # 408 Request Timeout is retried like a 5xx
    p, log, _ = run({"faults": [{"kind": "status", "code": 408, "match": "/api/", "count": 2}]})
    check(p.returncode == 0, "408 twice on the API: succeeds", p.stderr)
    check(len([r for r in log if r["status"] == 408]) == 2, "408: both failures seen, then retried")
    p, log, _ = run({"faults": [{"kind": "status", "code": 502, "match": "/lfs/", "count": -1}]},
                    GQ_HUB_RETRIES=2)
    check(p.returncode == 6 and "502" in p.stderr and "gave up" in p.stderr, "persistent 502: clear failure",
          p.stderr)

    # 429 with Retry-After: waits that long
    p, log, _ = run({"faults": [{"kind": "status", "code": 429, "retry_after": 1, "match": "/api/", "count": 1}]})
    check(p.returncode == 0, "429: fetch succeeds", p.stderr)
    api = [r for r in log if r["path"].startswith("/api/")]
    check(len(api) >= 2 and api[1]["t"] - api[0]["t"] >= 0.95, "429: waited Retry-After",
          str([r["t"] for r in api[:2]]))

    # 200 instead of 206 while chunked: the file restarts as one plain transfer
    p, log, _ = run({"no_ranges": True}, "--connections", "4", "--chunk-mb", "1")
    check(p.returncode == 0, "no ranges (chunked): succeeds", p.stderr)
    check("ignored" in p.stderr, "no ranges: said so", p.stderr)
    hub.check_snapshot(R, last_line(p.stdout), DEFAULT, "no ranges")

    # 200 instead of 206 on a resume: restart from byte 0
    p, log, _ = run({"faults": [{"kind": "drop", "match": sha1, "after": 500000, "count": 1},
                                {"kind": "norange", "match": sha1, "count": 1}]}, "--connections", "1")
    check(p.returncode == 0, "norange on resume: succeeds", p.stderr)
    g = gets(log, sha1)
    check(len(g) == 2 and g[1]["status"] == 200 and g[1]["sent"] == size1, "norange: full body the 2nd time", str(g))
    hub.check_snapshot(R, last_line(p.stdout), DEFAULT, "norange resume")

    # slow trickle (640 B/s): the stall is detected (< 1 KiB/s for GQ_HUB_STALL_SECONDS=2) and resumed
    sha2 = hashlib.sha256(hub.repos[R][S2]).hexdigest()
    p, log, _ = run({"faults": [{"kind": "trickle", "match": sha2, "after": 100000, "chunk": 64, "delay": 0.1,
                                 "count": 1}]}, "--connections", "1", GQ_HUB_STALL_SECONDS=2)
    check(p.returncode == 0, "trickle: succeeds", p.stderr)
    g = gets(log, sha2)
    ranged = [r for r in g if r["range"]]
    check(len(g) == 2 and len(ranged) == 1 and int(ranged[0]["range"][6:-1]) >= 100000,
          "trickle: resumed after the stall", str(g))
    # the server counts what it wrote into the socket; the last few bytes may never have arrived
    check(size2 <= body_bytes(log, sha2) <= size2 + 4096, "trickle: nothing fetched twice", str(body_bytes(log, sha2)))

    # parallel Range chunks of one file
    p, log, _ = run({}, "--connections", "4", "--chunk-mb", "1")
    check(p.returncode == 0, "chunked: succeeds", p.stderr)
    g = gets(log, sha1)
    check(len(g) == 4 and all(r["status"] == 206 for r in g), "chunked: 4 ranged requests", str(g))
    check(sorted(r["range"] for r in g)[0] == "bytes=0-1048575", "chunked: first range", str(g))
    check(body_bytes(log, sha1) == size1, "chunked: each byte once")
    hub.check_snapshot(R, last_line(p.stdout), DEFAULT, "chunked")

    # hostile names in the listing: refused, nothing written
    for bad in ["../../evil.json", "/etc/evil.json", "a\\b.json", "a//b.json"]:
        p, log, cache = run({"hostile": {R: [bad]}}, "--include", "*")
        check(p.returncode == 3 and "unsafe" in p.stderr, "hostile %r refused" % bad, p.stderr)
        check([r for r in log if "/resolve/" in r["path"]] == [], "hostile %r: nothing fetched" % bad)
        check(not os.path.exists(os.path.join(hub.dir, "evil.json")), "hostile %r: no escape" % bad)

    # too little disk: fails before any download
    p, log, _ = run({}, GQ_HUB_FREE_BYTES=1000)
    check(p.returncode == 4 and "disk space" in p.stderr, "disk space: exit 4", p.stderr)
    check([r for r in log if "/resolve/" in r["path"]] == [], "disk space: nothing fetched")

    # a redirect to a non-HTTP URL, a redirect loop: refused, not followed
    p, log, _ = run({"faults": [{"kind": "status", "code": 302, "location": "file:///etc/passwd",
                                 "match": "/resolve/", "count": -1}]}, "--include", "config.json")
    check(p.returncode == 6 and "non-HTTP" in p.stderr, "file:// redirect refused", p.stderr)
    p, log, _ = run({"faults": [{"kind": "status", "code": 302, "location": "/acme/tiny-oss/resolve/main/config.json",
                                 "match": "/resolve/", "count": -1}]}, "--include", "config.json")
    check(p.returncode == 6 and "redirects" in p.stderr, "redirect loop stopped", p.stderr)
    check(len([r for r in log if r["status"] == 302]) == 11, "redirect loop: 11 hops at most",
          str(len([r for r in log if r["status"] == 302])))

    # a 206 for another range than asked, a body longer than listed: nothing misplaced is written
    p, log, cache = run({"faults": [{"kind": "badrange", "match": sha1, "count": -1}]},
                        "--connections", "4", "--chunk-mb", "1", "--include", S1)
    check(p.returncode == 6 and "different byte range" in p.stderr, "wrong Content-Range refused", p.stderr)
    p, log, cache = run({"faults": [{"kind": "extra", "match": sha1, "bytes": 10, "count": -1}]},
                        "--include", S1)
    check(p.returncode == 6 and "listing says" in p.stderr, "longer body refused", p.stderr)

    # a file the server lost: EntryNotFound named
    p, log, _ = run({"faults": [{"kind": "status", "code": 404, "error_code": "EntryNotFound",
                                 "match": "/resolve/", "count": -1}]}, "--include", "config.json")
    check(p.returncode == 6 and "config.json" in p.stderr and "does not exist" in p.stderr, "EntryNotFound", p.stderr)
finally:
    hub.stop()
finish("hub_fetch_faults")
