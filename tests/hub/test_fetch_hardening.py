#!/usr/bin/env python3
"""The hub client against hostile or unlucky conditions (issue 14, items 10-14
and the tidy list), each a regression test that failed before its fix:
a symlinked or hard-linked partial file is not written through; NUL bytes in
listing names are refused; a listing with both `a` and `a/b`, or (with
--local-dir) a file under .cache/huggingface/, is refused before any
download; HF_ENDPOINT's user:password never appears in messages; a trickling
server is abandoned; --timeout bounds fetch and convert ORG/NAME; no empty
partial file after an integrity failure; an interrupted 429 wait says so;
an HF_ENDPOINT path prefix works, and a wrong one is named."""
import hashlib
import os
import signal
import subprocess
import time

import hubtest
from hubtest import EXE, Hub, check, finish, last_line, wait_for

R = "acme/tiny-oss"
S1 = "model-00001-of-00002.safetensors"
S2 = "model-00002-of-00002.safetensors"
hub = Hub("hardening")
hub.add_repo(R, hubtest.standard_files())
sha1 = hashlib.sha256(hub.repos[R][S1]).hexdigest()
sha2 = hashlib.sha256(hub.repos[R][S2]).hexdigest()
size1 = len(hub.repos[R][S1])
hub.start()
case_no = [0]


def fresh(cfg):
    case_no[0] += 1
    hub.config(cfg)
    hub.clear_log()
    return os.path.join(hub.dir, "c%d" % case_no[0])


def run(cfg, *args, timeout=60, **env):
    """A fresh cache, the given server behaviour, one fetch; (proc or None if it hung, seconds, log, cache)."""
    cache = fresh(cfg)
    env.setdefault("HF_HUB_CACHE", cache)
    t = time.time()
    try:
        p = hub.fetch(R, "--no-progress", *args, env=hub.env(**env), timeout=timeout)
    except subprocess.TimeoutExpired:
        p = None
    return p, time.time() - t, hub.log(), cache


def blobs_of(cache):
    return os.path.join(cache, "models--" + R.replace("/", "--"), "blobs")


def resolves(log):
    return [r for r in log if "/resolve/" in r["path"] or r["port"] == "cdn"]


def rc(p):
    return p.returncode if p else "hung"


def err(p):
    return p.stderr if p else "(killed after the time limit)"


try:
    # ---- 10: partial files are opened without following links ----
    victim = os.path.join(hub.dir, "victim.bin")
    for kind in ("symlink", "hardlink", "fifo"):
        with open(victim, "wb") as f:
            f.write(b"VICTIM")
        cache = fresh({})
        os.makedirs(blobs_of(cache))
        part = os.path.join(blobs_of(cache), sha1 + ".incomplete")
        if kind == "fifo":
            os.mkfifo(part)
        else:
            (os.symlink if kind == "symlink" else os.link)(victim, part)
        p = hub.fetch(R, "--no-progress", "--include", S1, "--connections", "1", env=hub.env(HF_HUB_CACHE=cache))
        check(open(victim, "rb").read() == b"VICTIM", "%s .incomplete: its target is not written" % kind,
              "(now %d bytes)" % os.path.getsize(victim))
        check(p.returncode == 4 and part in p.stderr and "not a plain file" in p.stderr,
              "%s .incomplete: refused, naming it (exit 4)" % kind, "%d %s" % (p.returncode, p.stderr))
    # a chunked partial that is a symlink to a file of the right size, with a progress file that resumes it
    with open(victim, "wb") as f:
        f.write(b"\0" * size1)
    cache = fresh({})
    os.makedirs(blobs_of(cache))
    os.symlink(victim, os.path.join(blobs_of(cache), sha1 + ".gq-chunks.incomplete"))
    with open(os.path.join(blobs_of(cache), sha1 + ".gq-chunks.state"), "w") as f:
        f.write("gq-chunks 1 %d 1\n0 %d 0\n" % (size1, size1))
    p = hub.fetch(R, "--no-progress", "--include", S1, "--connections", "4", "--chunk-mb", "1",
                  env=hub.env(HF_HUB_CACHE=cache))
    check(open(victim, "rb").read() == b"\0" * size1, "symlink chunked partial: its target is not written")
    check(p.returncode == 4 and "not a plain file" in p.stderr, "symlink chunked partial: refused",
          "%d %s" % (p.returncode, p.stderr))

    # ---- 11: NUL bytes inside listing names ----
    for bad, args, cfg_extra in [("evil\u0000.json", ["--include", "*"], {}),
                                 ("config.json\u0000x", [], {}),
                                 ("evil\u0000.json", ["--include", "*"], {"no_blobs": True})]:  # the tree API
        cfg = {"hostile": {R: [bad]}}
        cfg.update(cfg_extra)
        p, _, log, cache = run(cfg, *args)
        what = "NUL name %r%s" % (bad, " (tree)" if cfg_extra else "")
        check(p.returncode == 3 and "NUL" in p.stderr, what + ": refused, exit 3", "%d %s" % (p.returncode, p.stderr))
        check(resolves(log) == [], what + ": nothing fetched")
        check(not os.path.exists(os.path.join(cache, "models--acme--tiny-oss", "snapshots")), what + ": no snapshot")

    # ---- 12: a file and a folder of the same name; --local-dir bookkeeping ----
    p, _, log, _ = run({"hostile": {R: ["config.json/evil.json"]}})
    check(p.returncode == 3 and "both a file 'config.json'" in p.stderr, "a and a/b: refused, exit 3",
          "%d %s" % (p.returncode, p.stderr))
    check(resolves(log) == [], "a and a/b: refused before any download")
    bk = ".cache/huggingface/download/config.json.metadata"
    ld = os.path.join(hub.dir, "ld%d" % case_no[0])
    p, _, log, _ = run({"hostile": {R: [bk]}}, "--include", "*", "--local-dir", ld)
    check(p.returncode == 3 and "bookkeeping" in p.stderr, "local-dir: a repo file under .cache/huggingface refused",
          "%d %s" % (p.returncode, p.stderr))
    check(resolves(log) == [], "local-dir bookkeeping: refused before any download")
    check(not os.path.exists(os.path.join(ld, "config.json")), "local-dir bookkeeping: nothing written")
    p, _, _, _ = run({"hostile": {R: [bk]}})
    check(p.returncode == 0, "the same listing in the cache (no local dir, not selected): fetched", p.stderr)

    # ---- 13: HF_ENDPOINT's userinfo never printed ----
    secret = "s3cr3tPW"
    ep = "http://user:%s@127.0.0.1:%d" % (secret, hub.hub_port)
    cache = fresh({})
    p = hub.fetch("acme/no-such-repo", env=hub.env(HF_ENDPOINT=ep, HF_HUB_CACHE=cache))
    check(p.returncode == 6 and "not found" in p.stderr and secret not in p.stderr and "***@127.0.0.1" in p.stderr,
          "userinfo redacted (401)", "%d %s" % (p.returncode, p.stderr))
    p = hub.fetch(R, env=hub.env(HF_ENDPOINT="http://user:%s@127.0.0.1:1" % secret, HF_HUB_CACHE=cache,
                                 GQ_HUB_RETRIES=0))
    check(p.returncode == 6 and "127.0.0.1:1" in p.stderr and secret not in p.stderr,
          "userinfo redacted (connection refused)", "%d %s" % (p.returncode, p.stderr))
    p = hub.fetch(R, env=hub.env(HF_ENDPOINT="ftp://user:%s@example.com" % secret, HF_HUB_CACHE=cache))
    check(p.returncode == 2 and "HF_ENDPOINT" in p.stderr and secret not in p.stderr,
          "userinfo redacted (bad scheme)", "%d %s" % (p.returncode, p.stderr))

    # ---- 14: a trickling server is abandoned; --timeout ----
    trickle = {"faults": [{"kind": "trickle", "match": sha2, "after": 0, "chunk": 64, "delay": 0.1, "count": -1}]}
    p, secs, _, _ = run(trickle, "--include", S2, "--connections", "1", timeout=40,
                        GQ_HUB_STALL_SECONDS=1, GQ_HUB_RETRIES=2)
    check(p is not None and p.returncode == 6 and "little or no progress" in p.stderr,
          "trickle forever: abandoned after the retries (exit 6)", "%s %s" % (rc(p), err(p)))
    check(secs < 20, "trickle forever: gave up within seconds", "%.1f s" % secs)

    p, secs, _, cache = run(trickle, "--include", S2, "--connections", "1", "--timeout", "2", timeout=40,
                            GQ_HUB_STALL_SECONDS=30)
    check(p is not None and p.returncode == 6 and "--timeout" in p.stderr, "--timeout 2: exit 6 naming it",
          "%s %s" % (rc(p), err(p)))
    check(1.5 < secs < 8, "--timeout 2: ends after about 2 s", "%.1f s" % secs)
    part = os.path.join(blobs_of(cache), sha2 + ".incomplete")
    have = os.path.getsize(part) if os.path.exists(part) else 0
    check(have > 0, "--timeout: the partial data is kept for the next run", str(have))
    hub.config({})
    hub.clear_log()
    p = hub.fetch(R, "--no-progress", "--include", S2, "--connections", "1", env=hub.env(HF_HUB_CACHE=cache))
    g = [r for r in hub.log() if r["port"] == "cdn" and sha2 in r["path"]]
    check(p.returncode == 0 and len(g) == 1 and g[0]["range"] == "bytes=%d-" % have,
          "--timeout: the next run resumes where it stopped", "%d %s %s" % (p.returncode, p.stderr, g))

    # a Retry-After longer than what --timeout leaves: gives up at once instead of sleeping into the deadline
    p, secs, _, _ = run({"faults": [{"kind": "status", "code": 503, "retry_after": 60, "match": "/api/",
                                     "count": -1}]}, "--timeout", "5", timeout=40)
    check(p is not None and p.returncode == 6 and "--timeout" in p.stderr and secs < 3,
          "--timeout: a Retry-After past the deadline ends the run at once", "%s %.1f s %s" % (rc(p), secs, err(p)))

    # convert ORG/NAME passes --timeout to the fetch
    cache = fresh(trickle)
    out = os.path.join(hub.dir, "out.gptoss")
    t = time.time()
    try:
        p = subprocess.run([EXE, "convert", R, "-o", out, "--timeout", "2"], capture_output=True, text=True,
                           env=hub.env(HF_HUB_CACHE=cache, GQ_HUB_STALL_SECONDS=30), timeout=40)
    except subprocess.TimeoutExpired:
        p = None
    check(p is not None and p.returncode == 6 and "--timeout" in p.stderr and time.time() - t < 8,
          "convert ORG/NAME --timeout 2: exit 6 within seconds", "%s %s" % (rc(p), err(p)))
    check(not os.path.exists(out), "convert --timeout: no output")

    # ---- tidy: no empty partial file after an integrity failure ----
    for args in (["--connections", "4", "--chunk-mb", "1"], ["--connections", "1"]):
        p, _, _, cache = run({"faults": [{"kind": "corrupt", "match": sha1, "offset": 5, "count": -1}]}, *args)
        b = blobs_of(cache)
        empty = [n for n in os.listdir(b) if "incomplete" in n and os.path.getsize(os.path.join(b, n)) == 0]
        check(p.returncode == 6 and empty == [], "corrupt always %s: exit 6, no empty partial left" % " ".join(args),
              "%d %s" % (p.returncode, empty))
    p, _, _, cache = run({"faults": [{"kind": "extra", "match": sha1, "bytes": 10, "count": -1}]}, "--include", S1)
    b = blobs_of(cache)
    left = [n for n in os.listdir(b) if "incomplete" in n] if os.path.isdir(b) else []
    check(p.returncode == 6 and left == [], "longer body than listed: exit 6, no empty partial left",
          "%d %s" % (p.returncode, left))

    # ---- tidy: an interrupted 429 wait is reported as an interruption ----
    cache = fresh({"faults": [{"kind": "status", "code": 429, "retry_after": 30, "match": "/api/", "count": -1}]})
    proc = hub.spawn(R, "--no-progress", env=hub.env(HF_HUB_CACHE=cache))
    seen = wait_for(lambda: any(r["status"] == 429 for r in hub.log()), 20)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    try:
        _, e = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, e = proc.communicate()
    check(seen and proc.returncode == 130, "429 wait + SIGINT: exit 130", "%s %s" % (proc.returncode, e))
    check("interrupted" in e and "after retries" not in e, "429 wait + SIGINT: says interrupted, not 'after retries'",
          e)

    # ---- tidy: HF_ENDPOINT with a path prefix ----
    p, _, _, _ = run({"prefix": "/mirror"}, HF_ENDPOINT=hub.endpoint + "/mirror/")
    check(p.returncode == 0, "HF_ENDPOINT with a path prefix: works", p.stderr)
    if p.returncode == 0:
        hub.check_snapshot(R, last_line(p.stdout), hubtest.DEFAULT, "prefix")
    p, _, _, _ = run({"prefix": "/mirror"})
    check(p.returncode == 6 and "HF_ENDPOINT" in p.stderr and "'?'" not in p.stderr,
          "HF_ENDPOINT without the mirror's prefix: named, not \"file '?'\"", "%d %s" % (p.returncode, p.stderr))
    p, _, _, _ = run({}, HF_ENDPOINT=hub.endpoint + "/?x=1")
    check(p.returncode == 2 and "HF_ENDPOINT" in p.stderr, "HF_ENDPOINT with a query: usage error", p.stderr)
finally:
    hub.stop()
finish("hub_fetch_hardening")
