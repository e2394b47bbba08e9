#!/usr/bin/env python3
"""fetch into the huggingface_hub cache layout: default selection, symlinks,
refs, --json, last stdout line, --include/--exclude, warm cache (no resolve
requests online, zero requests offline), offline with something missing,
--local-dir, the tree API with pagination, a commit as revision."""
import json
import os

import hubtest
from hubtest import DEFAULT, Hub, check, finish, last_line

R = "acme/tiny-oss"
hub = Hub("cache")
hub.add_repo(R, __import__("hubtest").standard_files())
hub.start()
try:
    # 1. cold fetch, default selection
    p = hub.fetch(R, "--json")
    check(p.returncode == 0, "cold fetch exits 0", p.stderr)
    out = p.stdout.splitlines()
    # --json: stdout is exactly one JSON document; its "snapshot" is the folder
    check(len(out) == 1, "--json: one line, the JSON, nothing after it", p.stdout)
    snap = json.loads(p.stdout).get("snapshot") if p.stdout.strip() else ""
    repo = hub.repo_dir(R)
    commit = open(os.path.join(repo, "refs", "main")).read()
    check(len(commit) == 40, "refs/main holds a commit", commit)
    check(snap == os.path.join(repo, "snapshots", commit), "json snapshot is the snapshot dir", snap)
    hub.check_snapshot(R, snap, DEFAULT, "cold")
    check(not os.path.exists(os.path.join(snap, "original")), "original/ not fetched by default")
    check(not os.path.exists(os.path.join(snap, "README.md")), "README not fetched by default")
    j = json.loads(out[0]) if out else {}
    check(j.get("commit") == commit and j.get("snapshot") == snap, "json has commit and snapshot")
    check(sorted(f["path"] for f in j.get("files", [])) == sorted(DEFAULT), "json lists the selection")
    check(all(f["status"] == "downloaded" for f in j.get("files", [])), "json: all downloaded")
    blobs = os.listdir(os.path.join(repo, "blobs"))
    check(not [b for b in blobs if "incomplete" in b or "state" in b], "no partial files left", str(blobs))
    check(p.stderr == "", "nothing on stderr in a pipe", p.stderr)
    log = hub.log()
    check(all(r["port"] == "hub" for r in log if r["path"].startswith("/api/")), "api on the hub port")
    lfs_gets = [r for r in log if r["port"] == "cdn"]
    check(len(lfs_gets) >= 2, "LFS shards came from the CDN port", str(len(lfs_gets)))

    # 2. warm cache online: only the listing, no file request
    hub.clear_log()
    p = hub.fetch(R, "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["snapshot"] == snap, "warm fetch: same snapshot", p.stderr)
    log = hub.log()
    check([r for r in log if "/resolve/" in r["path"] or r["port"] == "cdn"] == [], "warm fetch: no file requests",
          json.dumps(log))
    j = json.loads(p.stdout.splitlines()[0])
    check(all(f["status"] == "cached" for f in j["files"]) and j["bytes_fetched"] == 0, "warm json: all cached")

    # 3. offline: zero requests
    hub.clear_log()
    p = hub.fetch(R, env=hub.env(HF_HUB_OFFLINE=1))
    check(p.returncode == 0 and last_line(p.stdout) == snap, "offline: same snapshot", p.stderr)
    check(hub.log() == [], "offline: zero requests")

    # 4. offline with a shard gone: names it
    shard = "model-00002-of-00002.safetensors"
    os.rename(os.path.join(snap, shard), os.path.join(snap, shard + ".bak"))
    p = hub.fetch(R, env=hub.env(HF_HUB_OFFLINE=1))
    check(p.returncode == 6, "offline missing: exit 6", str(p.returncode))
    check(shard in p.stderr and "HF_HUB_OFFLINE" in p.stderr, "offline missing: names the shard", p.stderr)
    os.rename(os.path.join(snap, shard + ".bak"), os.path.join(snap, shard))
    p = hub.fetch(R, "--revision", "v2", env=hub.env(HF_HUB_OFFLINE=1))
    check(p.returncode == 6 and "v2" in p.stderr, "offline unknown revision named", p.stderr)
    check(hub.log() == [], "offline failures: zero requests")

    # 5. a blob put there by someone else is reused when its size matches; a wrong size is re-fetched
    os.unlink(os.path.join(snap, "config.json"))
    hub.clear_log()
    p = hub.fetch(R)
    check(p.returncode == 0, "relink after a lost symlink", p.stderr)
    check([r for r in hub.log() if "/resolve/" in r["path"]] == [], "blob reused, not fetched")
    hub.check_snapshot(R, snap, ["config.json"], "relinked")
    blob = os.path.realpath(os.path.join(snap, "tokenizer_config.json"))
    open(blob, "wb").write(b"{}")
    hub.clear_log()
    p = hub.fetch(R)
    check(p.returncode == 0, "wrong-size blob refetched", p.stderr)
    check(len([r for r in hub.log() if "tokenizer_config.json" in r["path"]]) == 1, "one request for it")
    hub.check_snapshot(R, snap, ["tokenizer_config.json"], "refetched")

    # 6. --include / --exclude, nested paths link with more ../
    p = hub.fetch(R, "--include", "original/*", "--include", "*.md", "--exclude", "*.json")
    check(p.returncode == 0, "include/exclude fetch", p.stderr)
    hub.check_snapshot(R, snap, ["original/model.safetensors", "README.md"], "include")
    check(not os.path.exists(os.path.join(snap, "original/config.json")), "exclude wins over include")
    p = hub.fetch(R, "--include", "nothing*")
    check(p.returncode == 2 and "--include" in p.stderr, "empty selection is a usage error", p.stderr)
    p = hub.fetch(R, "--include", "empty.txt")
    check(p.returncode == 0 and os.path.getsize(os.path.join(snap, "empty.txt")) == 0, "empty file", p.stderr)

    # 6b. two paths with the same content: one blob, one request, two links
    hub.clear_log()
    p = hub.fetch(R, "--include", "dup/*")
    check(p.returncode == 0, "duplicate content fetch", p.stderr)
    hub.check_snapshot(R, snap, ["dup/one.bin", "dup/two.bin"], "duplicates")
    check(len([r for r in hub.log() if "/resolve/" in r["path"]]) == 1, "duplicate content fetched once")

    # 7. a commit as the revision: no ref written for it
    p = hub.fetch(R, "--revision", commit)
    check(p.returncode == 0 and last_line(p.stdout) == snap, "commit revision", p.stderr)
    p = hub.fetch(R, "--revision", commit.upper(), env=hub.env(HF_HUB_OFFLINE=1))
    check(p.returncode == 0 and last_line(p.stdout) == snap, "commit revision in capitals, offline", p.stderr)
    check(sorted(os.listdir(os.path.join(repo, "refs"))) == ["main"], "no refs/<commit>")

    # 8. --local-dir: plain files + metadata, reused on the second run
    ld = os.path.join(hub.dir, "local")
    p = hub.fetch(R, "--local-dir", ld)
    check(p.returncode == 0 and last_line(p.stdout) == ld, "local-dir fetch", p.stderr)
    for f in DEFAULT:
        full = os.path.join(ld, f)
        check(os.path.isfile(full) and not os.path.islink(full), "local-dir plain file " + f)
        check(open(full, "rb").read() == hub.repos[R][f], "local-dir content " + f)
    meta = open(os.path.join(ld, ".cache/huggingface/download/config.json.metadata")).read().split("\n")
    check(meta[0] == commit, "local-dir metadata commit")
    hub.clear_log()
    p = hub.fetch(R, "--local-dir", ld)
    check(p.returncode == 0 and [r for r in hub.log() if "/resolve/" in r["path"]] == [], "local-dir reuse")

    # 9. siblings without blob info: the tree API, two entries a page
    cache2 = os.path.join(hub.dir, "cache2")
    hub.config({"no_blobs": True, "tree_page": 2})
    hub.clear_log()
    p = hub.fetch(R, env=hub.env(HF_HUB_CACHE=cache2))
    check(p.returncode == 0, "tree listing fetch", p.stderr)
    pages = [r for r in hub.log() if "/tree/" in r["path"]]
    check(len(pages) >= 5, "tree listing paginated", str(len(pages)))
    check(all("cursor" in r["path"] for r in pages[1:]), "followed Link rel=next")
    snap2 = last_line(p.stdout)
    check(snap2.startswith(cache2), "HF_HUB_CACHE honoured", snap2)
    hub.check_snapshot(R, snap2, DEFAULT, "tree")
    hub.config({})

    # 10. a terminal gets a progress line on stderr (a pipe got nothing, above)
    import pty
    import subprocess
    master, slave = pty.openpty()
    proc = subprocess.Popen([hubtest.EXE, "fetch", R], env=hub.env(HF_HUB_CACHE=os.path.join(hub.dir, "cache3")),
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    out, _ = proc.communicate()
    os.close(master)
    check(proc.returncode == 0 and b"\rfetch:" in tty and b"%" in tty and b"/s" in tty, "progress on a terminal",
          repr(tty[-300:]))
    check(b"fetch:" not in out, "progress never on stdout")

    # 11. usage errors
    p = hub.fetch("not a repo")
    check(p.returncode == 2, "bad repo id: exit 2", p.stderr)
    p = hub.fetch(R, "--revision", "../../etc")
    check(p.returncode == 2, "bad revision: exit 2", p.stderr)
    p = hub.fetch("--help")
    check(p.returncode == 0 and "HF_TOKEN" in p.stdout, "--help")
finally:
    hub.stop()
finish("hub_fetch_cache")
