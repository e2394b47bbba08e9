#!/usr/bin/env python3
"""Auth and errors: the token (HF_TOKEN, HUGGING_FACE_HUB_TOKEN, $HF_HOME/token)
goes to the hub port and never to the CDN port, follows a relative redirect
on the hub, is never printed; private / gated / missing repo / missing
revision answers map to messages that say what to do; HEAD metadata when the
listings lack sizes and etags."""
import os

import hubtest
from hubtest import DEFAULT, TOKEN, Hub, check, finish, last_line

hub = Hub("auth")
files = hubtest.standard_files()
for rid in ["acme/tiny-oss", "acme/private", "acme/gated", "acme/newname"]:
    hub.add_repo(rid, files)
hub.repos["old/oldname"] = files
hub.start()
case_no = [0]


def run(rid, cfg, *args, **env):
    case_no[0] += 1
    hub.config(cfg)
    hub.clear_log()
    env.setdefault("HF_HUB_CACHE", os.path.join(hub.dir, "c%d" % case_no[0]))
    p = hub.fetch(rid, "--no-progress", *args, env=hub.env(**env))
    check(TOKEN not in p.stdout and TOKEN not in p.stderr and "wrongtoken" not in p.stderr,
          "%s: token never printed" % rid)
    return p, hub.log()


try:
    # a public repo with a token: hub yes, CDN never
    p, log = run("acme/tiny-oss", {}, HF_TOKEN=TOKEN)
    check(p.returncode == 0, "token: fetch ok", p.stderr)
    hub_reqs = [r for r in log if r["port"] == "hub"]
    cdn_reqs = [r for r in log if r["port"] == "cdn"]
    check(hub_reqs and all(r["auth"] for r in hub_reqs), "token: sent on every hub request")
    check(cdn_reqs and not any(r["auth"] for r in cdn_reqs), "token: never sent to the CDN port",
          str([r for r in cdn_reqs if r["auth"]]))

    # private repo
    p, log = run("acme/private", {"private": ["acme/private"]})
    check(p.returncode == 6, "private without token: exit 6", str(p.returncode))
    check("not found" in p.stderr and "HF_TOKEN" in p.stderr and "no token was sent" in p.stderr,
          "private without token: actionable", p.stderr)
    p, log = run("acme/private", {"private": ["acme/private"]}, HUGGING_FACE_HUB_TOKEN=TOKEN)
    check(p.returncode == 0, "private with HUGGING_FACE_HUB_TOKEN", p.stderr)
    os.makedirs(hub.home, exist_ok=True)
    with open(os.path.join(hub.home, "token"), "w") as f:
        f.write(TOKEN + "\n")
    p, log = run("acme/private", {"private": ["acme/private"]})
    check(p.returncode == 0, "private with $HF_HOME/token", p.stderr)
    check(not any(r["auth"] for r in log if r["port"] == "cdn"), "token file: not sent to the CDN")
    os.unlink(os.path.join(hub.home, "token"))
    p, log = run("acme/private", {"private": ["acme/private"]}, HF_TOKEN="wrongtoken")
    check(p.returncode == 6 and "has no access" in p.stderr, "private with a wrong token", p.stderr)

    # gated repo
    p, log = run("acme/gated", {"gated": ["acme/gated"]})
    check(p.returncode == 6 and "gated" in p.stderr and "accept" in p.stderr and "HF_TOKEN" in p.stderr,
          "gated without token: actionable", p.stderr)
    p, log = run("acme/gated", {"gated": ["acme/gated"]}, HF_TOKEN="wrongtoken")
    check(p.returncode == 6 and "gated" in p.stderr and "no access yet" in p.stderr, "gated 403: actionable",
          p.stderr)
    check(any(r["status"] == 403 for r in log), "gated: server said 403")
    p, log = run("acme/gated", {"gated": ["acme/gated"]}, HF_TOKEN=TOKEN)
    check(p.returncode == 0, "gated with the right token", p.stderr)

    # an invalid token (the Hub answers 401 even for public repos)
    p, log = run("acme/tiny-oss", {"faults": [{"kind": "status", "code": 401, "match": "/api/", "count": -1,
                                               "message": "Invalid credentials in Authorization header"}]},
                 HF_TOKEN="wrongtoken")
    check(p.returncode == 6 and "rejected the token" in p.stderr, "invalid token named as such", p.stderr)

    # missing repo, missing revision
    p, log = run("acme/nothing", {})
    check(p.returncode == 6 and "acme/nothing not found" in p.stderr, "missing repo", p.stderr)
    p, log = run("acme/tiny-oss", {}, "--revision", "nope")
    check(p.returncode == 6 and "revision 'nope' does not exist" in p.stderr, "missing revision", p.stderr)
    p, log = run("acme/tiny-oss", {}, "--revision", "v1")
    check(p.returncode == 0, "a tag resolves", p.stderr)
    ref = os.path.join(hub.dir, "c%d" % case_no[0], "models--acme--tiny-oss", "refs", "v1")
    check(os.path.exists(ref), "refs/v1 written")

    # a renamed repo: relative 307s on the hub, followed with the token (same origin)
    p, log = run("old/oldname", {"renamed": {"old/oldname": "acme/newname"}}, HF_TOKEN=TOKEN)
    check(p.returncode == 0, "relative redirect: fetch ok", p.stderr)
    hops = [r for r in log if r["status"] == 307]
    check(len(hops) >= 2, "relative redirect: API and resolve redirected", str(len(hops)))
    followed = [r for r in log if r["port"] == "hub" and r["path"].startswith("/acme/newname/resolve/")]
    check(followed and all(r["auth"] for r in followed), "relative redirect: token kept on the same host")
    check(not any(r["auth"] for r in log if r["port"] == "cdn"), "relative redirect: CDN still without token")
    hub.repos["old/oldname"] = files
    hub.check_snapshot("old/oldname", last_line(p.stdout), DEFAULT, "renamed")

    # listings without sizes or etags: HEAD metadata per file (not following the CDN redirect)
    p, log = run("acme/tiny-oss", {"no_blobs": True, "no_tree_blobs": True})
    check(p.returncode == 0, "HEAD metadata: fetch ok", p.stderr)
    heads = [r for r in log if r["method"] == "HEAD"]
    check(len(heads) == len(DEFAULT) and all(r["port"] == "hub" for r in heads), "HEAD on the hub per file",
          str(len(heads)))
    hub.check_snapshot("acme/tiny-oss", last_line(p.stdout), DEFAULT, "HEAD metadata")

    # HF_ENDPOINT that is not http(s)
    p = hub.fetch("acme/tiny-oss", env=hub.env(HF_ENDPOINT="ftp://x"))
    check(p.returncode == 2 and "HF_ENDPOINT" in p.stderr, "bad HF_ENDPOINT", p.stderr)
    # nothing listening: a network error, not a crash
    p = hub.fetch("acme/tiny-oss", env=hub.env(HF_ENDPOINT="http://127.0.0.1:9", GQ_HUB_RETRIES=1))
    check(p.returncode == 6 and "127.0.0.1:9" in p.stderr, "unreachable hub: exit 6", p.stderr)
finally:
    hub.stop()
finish("hub_fetch_auth")
