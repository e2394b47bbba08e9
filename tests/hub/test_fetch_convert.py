#!/usr/bin/env python3
"""One step from repo to file: a tiny synthetic gpt-oss checkpoint
(gptoss-fixture) served by the local hub converts with
`gptoss-convert convert ORG/NAME -o X.gptoss`, giving the same tensors as
converting the checkpoint folder directly; a second run with
HF_HUB_OFFLINE=1 converts from the cache with zero requests."""
import os
import subprocess

from hubtest import EXE, Hub, check, finish, need_fixture, read_tree

FIXTURE = need_fixture()

R = "acme/tiny-fixture"
hub = Hub("convert")
repo_dir = os.path.join(hub.dir, "srv", "repos", R)
os.makedirs(os.path.dirname(repo_dir), exist_ok=True)
p = subprocess.run([FIXTURE, "tiny", "-o", repo_dir, "--no-sync"], capture_output=True, text=True)
check(p.returncode == 0, "gptoss-fixture tiny", p.stderr.strip()[:300])
if p.returncode != 0:
    hub.stop()
    finish("hub_fetch_convert")
hub.repos[R] = read_tree(repo_dir)
hub.start()


def tensors(path):
    """The tensor table of `inspect --tensors` (name, type, shape, offset, bytes, xxh3)."""
    p = subprocess.run([EXE, "inspect", path, "--tensors"], capture_output=True, text=True)
    lines = p.stdout.splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("tensors:")), len(lines))
    return p.returncode, lines[start:]


try:
    out_hub = os.path.join(hub.dir, "hub.gptoss")
    out_dir = os.path.join(hub.dir, "dir.gptoss")
    env = hub.env()
    p = subprocess.run([EXE, "convert", R, "-o", out_hub, "--quant", "q8", "-q"], env=env, capture_output=True,
                       text=True, timeout=150)
    check(p.returncode == 0, "convert ORG/NAME: exit 0", p.stderr)
    check(os.path.exists(out_hub), "convert ORG/NAME: output written")
    log = hub.log()
    check(any("/resolve/" in r["path"] for r in log), "convert ORG/NAME: fetched from the hub")
    p = subprocess.run([EXE, "convert", repo_dir, "-o", out_dir, "--quant", "q8", "-q"], env=env,
                       capture_output=True, text=True, timeout=150)
    check(p.returncode == 0, "convert DIR: exit 0", p.stderr)
    rc1, t1 = tensors(out_hub)
    rc2, t2 = tensors(out_dir)
    check(rc1 == 0 and rc2 == 0 and len(t1) > 10, "inspect both", "%d %d %d" % (rc1, rc2, len(t1)))
    check(t1 == t2, "same tensors (types, shapes, bytes, xxh3) from the hub and from the folder")
    p = subprocess.run([EXE, "verify", out_hub], capture_output=True, text=True)
    check(p.returncode == 0, "verify the hub-converted file", p.stderr)

    # again, offline: the cache alone, zero requests
    hub.clear_log()
    os.unlink(out_hub)
    p = subprocess.run([EXE, "convert", R, "-o", out_hub, "--quant", "q8", "-q"], env=hub.env(HF_HUB_OFFLINE=1),
                       capture_output=True, text=True, timeout=150)
    check(p.returncode == 0, "offline convert: exit 0", p.stderr)
    check(hub.log() == [], "offline convert: zero requests")
    check(tensors(out_hub)[1] == t2, "offline convert: same tensors")

    # ORG/NAME that exists as a local folder is the folder: no request at all
    hub.clear_log()
    out_local = os.path.join(hub.dir, "local.gptoss")
    p = subprocess.run([EXE, "convert", R, "-o", out_local, "--quant", "q8", "-q"], env=env, capture_output=True,
                       text=True, timeout=150, cwd=os.path.join(hub.dir, "srv", "repos"))
    check(p.returncode == 0 and hub.log() == [], "a local ORG/NAME folder wins over the Hub", p.stderr)
    check(tensors(out_local)[1] == t2, "local ORG/NAME folder: same tensors")

    # a repo that does not exist: the hub's error, exit 6
    p = subprocess.run([EXE, "convert", "acme/nothing", "-o", os.path.join(hub.dir, "x.gptoss")], env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 6 and "not found" in p.stderr, "convert of a missing repo: exit 6", p.stderr)
finally:
    hub.stop()
finish("hub_fetch_convert")
