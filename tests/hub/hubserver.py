#!/usr/bin/env python3
"""hubserver.py - a local stand-in for the Hugging Face Hub, for tests and benchmarks.

Python standard library only. Two ThreadingHTTPServers on 127.0.0.1 with ports
chosen by the OS: the "hub" (API + resolve) and the "CDN" that resolve redirects
LFS files to. Writes "HUB_PORT CDN_PORT" to ROOT/ports once listening, and one
JSON line per request to ROOT/log.jsonl (method, path, range, whether an
Authorization header came, status, body bytes sent). The token is never logged.

Repos: every folder ROOT/repos/ORG/NAME is a repo; its files (recursively) are
the repo's files at one commit (sha1 of the listing). Files >= 1 MiB or named
*.safetensors are LFS (etag = sha256, served through a 302 to the CDN); the
others are plain git blobs (etag = git blob sha1, served by the hub itself).

Behaviour switches: ROOT/config.json, re-read on every request (absent = {}):
  "private": [repo...]          no/wrong token -> 401 RepoNotFound
  "gated": [repo...]            no token -> 401 GatedRepo; wrong token -> 403 GatedRepo
  "token": "..."                the token that has access (default "hf_goodtoken")
  "renamed": {"old/x": "org/y"} API and resolve of old/x answer a RELATIVE 307 to org/y
  "hostile": {repo: [name...]}  extra names in the listings
  "no_blobs": true              repo-info siblings lack size/blobId/lfs (client must use the tree)
  "no_tree_blobs": true         tree entries lack them too (client must HEAD each file)
  "tree_page": N                tree listing paginated N entries a page (Link rel="next")
  "prefix": "/mirror"           the hub port serves under this path prefix only (a mirror's layout);
                                requests without it get 404 "unknown endpoint"
  "faults": [ {kind, match, count, ...} ]   count: times it fires (-1: always); match: path substring
      kind "status":  answer "code" (with "retry_after" seconds, "error_code" X-Error-Code, "location")
      kind "badrange": answer a Range request with 206 for a range starting one byte later
      kind "extra":   send "bytes" more bytes than the file has (Content-Length too)
      kind "drop":    send headers, then "after" bytes of the body, then close the connection
      kind "corrupt": flip the byte at file offset "offset" in the body sent
      kind "norange": ignore Range (of a request that has one), answer 200 with the whole file
      kind "trickle": send "chunk" bytes every "delay" seconds, after the first "after" bytes
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_MIN = 1 << 20


class Repo:
    def __init__(self, repo_id, folder):
        self.id = repo_id
        self.folder = folder
        self.files = {}  # path -> dict(size, etag, lfs, full)
        for dirpath, _, names in os.walk(folder):
            for n in sorted(names):
                full = os.path.join(dirpath, n)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                size = os.path.getsize(full)
                lfs = size >= LFS_MIN or rel.endswith(".safetensors")
                h = hashlib.sha256() if lfs else hashlib.sha1(b"blob %d\0" % size)
                with open(full, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                self.files[rel] = dict(size=size, etag=h.hexdigest(), lfs=lfs, full=full)
        listing = "".join("%s %s\n" % (p, self.files[p]["etag"]) for p in sorted(self.files))
        self.commit = hashlib.sha1(listing.encode()).hexdigest()


class State:
    def __init__(self, root):
        self.root = root
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.cfg_mtime = None
        self.cfg = {}
        self.fired = {}
        self.repos = {}
        base = os.path.join(root, "repos")
        for org in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            for name in sorted(os.listdir(os.path.join(base, org))):
                rid = org + "/" + name
                self.repos[rid] = Repo(rid, os.path.join(base, org, name))
        self.by_sha = {}
        for r in self.repos.values():
            for f in r.files.values():
                if f["lfs"]:
                    self.by_sha[f["etag"]] = f
        self.hub_port = self.cdn_port = 0

    def config(self):
        path = os.path.join(self.root, "config.json")
        with self.lock:
            try:
                m = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                m = None
            if m != self.cfg_mtime:
                self.cfg_mtime = m
                self.cfg = json.load(open(path)) if m is not None else {}
                self.fired = {}
            return self.cfg

    def fault(self, where, path, kinds):
        """The first configured fault of one of `kinds` matching this request (consumes one firing)."""
        cfg = self.config()
        with self.lock:
            for i, f in enumerate(cfg.get("faults", [])):
                if f.get("kind") not in kinds or f.get("match", "") not in path:
                    continue
                if f.get("where", "any") not in ("any", where):
                    continue
                n = f.get("count", 1)
                used = self.fired.get(i, 0)
                if n >= 0 and used >= n:
                    continue
                self.fired[i] = used + 1
                return f
        return None

    def log(self, rec):
        with self.log_lock:
            with open(os.path.join(self.root, "log.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")


def make_handler(state, where):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def rec(self, status, sent, **extra):
            r = dict(t0=getattr(self, "t0", None), t=time.time(), port=where, method=self.command, path=self.path, range=self.headers.get("Range"),
                     auth=self.headers.get("Authorization") is not None, status=status, sent=sent)
            r.update(extra)
            state.log(r)

        def small(self, status, body=b"", headers=None, ctype="application/json"):
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # logged before the body goes out: a client that has its answer finds it in the log
            self.rec(status, 0 if self.command == "HEAD" else len(body))
            if self.command != "HEAD":
                self.wfile.write(body)

        def error(self, status, code, msg):
            self.small(status, {"error": msg}, {"X-Error-Code": code, "X-Error-Message": msg})

        def do_HEAD(self):
            self.do_GET()

        def status_fault(self):
            f = state.fault(where, self.path, ("status",))
            if not f:
                return False
            h = {}
            if "retry_after" in f:
                h["Retry-After"] = str(f["retry_after"])
            if "location" in f:
                h["Location"] = f["location"]
            if "error_code" in f:
                h["X-Error-Code"] = f["error_code"]
            if "error_code" in f or "message" in f:
                h["X-Error-Message"] = f.get("message", f.get("error_code"))
            self.small(f["code"], {"error": "injected"}, h)
            return True

        def access(self, repo_id):
            """None when allowed, else the answer already sent."""
            cfg = state.config()
            token = cfg.get("token", "hf_goodtoken")
            auth = self.headers.get("Authorization")
            good = auth == "Bearer " + token
            if repo_id in cfg.get("private", []) and not good:
                self.error(401, "RepoNotFound", "Repository not found")
                return False
            if repo_id in cfg.get("gated", []) and not good:
                if auth is None:
                    self.error(401, "GatedRepo", "Access to this gated repo is restricted")
                else:
                    self.error(403, "GatedRepo", "You have not accepted the gated repo terms")
                return False
            return True

        def do_GET(self):
            self.t0 = time.time()
            u = urllib.parse.urlsplit(self.path)
            parts = [urllib.parse.unquote(p) for p in u.path.split("/")[1:]]
            q = urllib.parse.parse_qs(u.query)
            if self.status_fault():
                return
            pre = state.config().get("prefix", "") if where == "hub" else ""
            if pre:
                if not u.path.startswith(pre + "/"):
                    return self.error(404, "EntryNotFound", "unknown endpoint")
                parts = parts[len(pre.strip("/").split("/")):]
            if where == "cdn":
                if len(parts) == 2 and parts[0] == "lfs" and parts[1] in state.by_sha:
                    return self.send_file(state.by_sha[parts[1]])
                return self.error(404, "EntryNotFound", "no such blob")
            cfg = state.config()
            if parts[:2] == ["api", "models"] and len(parts) >= 6:
                rid = parts[2] + "/" + parts[3]
                kind = parts[4]
                if rid in cfg.get("renamed", {}):
                    new = cfg["renamed"][rid]
                    loc = pre + "/api/models/%s/%s" % (new, "/".join(urllib.parse.quote(p, safe="") for p in parts[4:]))
                    return self.small(307, b"", {"Location": loc + ("?" + u.query if u.query else "")})
                return self.api(rid, kind, parts[5], q, cfg)
            if len(parts) >= 5 and parts[2] == "resolve":
                rid = parts[0] + "/" + parts[1]
                if rid in cfg.get("renamed", {}):
                    loc = pre + "/" + cfg["renamed"][rid] + "/" + "/".join(u.path[len(pre):].split("/")[3:])
                    return self.small(307, b"", {"Location": loc})
                return self.resolve(rid, parts[3], "/".join(parts[4:]))
            return self.error(404, "EntryNotFound", "unknown endpoint")

        def repo_at(self, rid, rev):
            repo = state.repos.get(rid)
            if repo is None:
                self.error(401, "RepoNotFound", "Repository not found")
                return None
            if not self.access(rid):
                return None
            if rev not in ("main", "v1", repo.commit):
                self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
                return None
            return repo

        def entries(self, repo, cfg):
            out = [(p, f) for p, f in sorted(repo.files.items())]
            for name in cfg.get("hostile", {}).get(repo.id, []):
                out.append((name, dict(size=3, etag="0" * 40, lfs=False, full=None)))
            return out

        def api(self, rid, kind, rev, q, cfg):
            repo = self.repo_at(rid, rev)
            if repo is None:
                return
            if kind == "revision":
                sib = []
                for p, f in self.entries(repo, cfg):
                    s = {"rfilename": p}
                    if not cfg.get("no_blobs"):
                        s["size"] = f["size"]
                        s["blobId"] = f["etag"] if not f["lfs"] else hashlib.sha1(f["etag"].encode()).hexdigest()
                        if f["lfs"]:
                            s["lfs"] = {"sha256": f["etag"], "size": f["size"], "pointerSize": 134}
                    sib.append(s)
                return self.small(200, {"id": rid, "sha": repo.commit, "siblings": sib})
            if kind == "tree":
                items, dirs = [], set()
                for p, f in self.entries(repo, cfg):
                    d = p.rsplit("/", 1)[0] if "/" in p else None
                    if d and d not in dirs:
                        dirs.add(d)
                        items.append({"type": "directory", "path": d, "oid": "1" * 40, "size": 0})
                    e = {"type": "file", "path": p, "size": f["size"],
                         "oid": f["etag"] if not f["lfs"] else hashlib.sha1(f["etag"].encode()).hexdigest()}
                    if f["lfs"]:
                        e["lfs"] = {"oid": f["etag"], "size": f["size"], "pointerSize": 134}
                    if cfg.get("no_tree_blobs"):
                        e = {"type": "file", "path": p}
                    items.append(e)
                page = int(cfg.get("tree_page", 1000))
                start = int(q.get("cursor", ["0"])[0])
                chunk = items[start:start + page]
                h = {}
                if start + page < len(items):
                    h["Link"] = '<http://127.0.0.1:%d%s/api/models/%s/tree/%s?recursive=true&cursor=%d>; rel="next"' % (
                        state.hub_port, cfg.get("prefix", ""), rid, rev, start + page)
                return self.small(200, chunk, h)
            return self.error(404, "EntryNotFound", "unknown api")

        def resolve(self, rid, rev, path):
            repo = self.repo_at(rid, rev)
            if repo is None:
                return
            f = repo.files.get(path)
            if f is None:
                return self.error(404, "EntryNotFound", "Entry not found: " + path)
            h = {"X-Repo-Commit": repo.commit}
            if f["lfs"]:
                h["X-Linked-Etag"] = '"%s"' % f["etag"]
                h["X-Linked-Size"] = str(f["size"])
                h["ETag"] = '"%s"' % hashlib.sha1(f["etag"].encode()).hexdigest()
                h["Location"] = "http://127.0.0.1:%d/lfs/%s?X-Amz-Signature=abc" % (state.cdn_port, f["etag"])
                return self.small(302, b"", h)
            h["ETag"] = '"%s"' % f["etag"]
            return self.send_file(f, h)

        def send_file(self, f, extra=None):
            size = f["size"]
            start, end = 0, size - 1
            rng = self.headers.get("Range")
            partial = False
            norange = rng and (state.config().get("no_ranges") or state.fault(where, self.path, ("norange",)))
            if rng and not norange and rng.startswith("bytes="):
                a, _, b = rng[6:].partition("-")
                start = int(a)
                end = min(int(b), size - 1) if b else size - 1
                if start >= size or end < start:
                    return self.small(416, b"", {"Content-Range": "bytes */%d" % size})
                partial = True
            n = end - start + 1 if size else 0
            shift = 1 if partial and state.fault(where, self.path, ("badrange",)) else 0
            extra_f = state.fault(where, self.path, ("extra",))
            pad = extra_f.get("bytes", 10) if extra_f else 0
            self.send_response(206 if partial else 200)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            if partial:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start + shift, end, size))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(n - shift + pad))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            status = 206 if partial else 200
            if self.command == "HEAD":
                return self.rec(status, 0)
            if shift or pad:
                with open(f["full"], "rb") as fp:
                    fp.seek(start + shift)
                    body = fp.read(n - shift) + b"x" * pad
                self.wfile.write(body)
                return self.rec(status, len(body))
            drop = state.fault(where, self.path, ("drop",))
            corrupt = state.fault(where, self.path, ("corrupt",))
            trickle = state.fault(where, self.path, ("trickle",))
            sent = 0
            try:
                with open(f["full"], "rb") as fp:
                    if not (drop or corrupt or trickle):
                        # the fast path (benchmarks): zero-copy from the page cache
                        while sent < n:
                            k = self.connection.sendfile(fp, start + sent, n - sent)
                            if k <= 0:
                                break
                            sent += k
                    else:
                        fp.seek(start)
                        limit = drop.get("after", n // 2) if drop else n
                        while sent < n:
                            step = min(1 << 16, n - sent)
                            if trickle and sent >= trickle.get("after", 0):
                                step = min(step, trickle.get("chunk", 64))
                                time.sleep(trickle.get("delay", 0.1))
                            if sent + step > limit:
                                step = limit - sent
                            if step <= 0:
                                break
                            block = bytearray(fp.read(step))
                            if corrupt:
                                off = corrupt.get("offset", 0) - (start + sent)
                                if 0 <= off < len(block):
                                    block[off] ^= 0xFF
                            self.wfile.write(block)
                            sent += len(block)
                        if drop:
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True
            self.rec(status, sent, dropped=bool(drop) or None)

    return H


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (faults, kills) are part of the tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    state = State(a.root)
    hub = QuietServer(("127.0.0.1", 0), make_handler(state, "hub"))
    cdn = QuietServer(("127.0.0.1", 0), make_handler(state, "cdn"))
    state.hub_port, state.cdn_port = hub.server_address[1], cdn.server_address[1]
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    tmp = os.path.join(a.root, "ports.tmp")
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (state.hub_port, state.cdn_port))
    os.replace(tmp, os.path.join(a.root, "ports"))
    try:
        hub.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
