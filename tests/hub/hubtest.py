"""hubtest.py - shared plumbing for the hub tests: a fresh work folder, the local
hub server (hubserver.py) on OS-chosen loopback ports, `gptoss-convert fetch`
runs with a clean environment, the server's request log, and checks.

Each test_*.py imports this, builds one Hub, and calls check(...) for every
expectation; finish() exits 1 if any failed (0 otherwise)."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("GQ_BIN_DIR", "")
BUILD = os.environ.get("GQ_BUILD_DIR", "/tmp")
EXE = os.path.join(BIN, "gptoss-convert")
TOKEN = "hf_goodtoken"

_failed = 0
_passed = 0


def check(cond, what, detail=""):
    global _failed, _passed
    if cond:
        _passed += 1
    else:
        _failed += 1
        print("FAIL: %s %s" % (what, detail), file=sys.stderr)
        sys.stderr.flush()


def finish(name):
    print("%s: %d passed, %d failed" % (name, _passed, _failed))
    sys.exit(1 if _failed else 0)


def skip(why):
    print("skipped: " + why)
    sys.exit(77)


def wait_for(cond, timeout=30):
    """Polls cond() every 20 ms; True as soon as it holds, False after timeout s."""
    t = time.time()
    while time.time() - t < timeout:
        if cond():
            return True
        time.sleep(0.02)
    return False


def rand_bytes(n, seed):
    r = random.Random(seed)
    return r.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def standard_files():
    """A gpt-oss-shaped repo: small git files, two LFS shards, and folders not fetched by default."""
    return {
        "config.json": json.dumps({"model_type": "gpt_oss", "num_hidden_layers": 2}).encode(),
        "generation_config.json": b'{"eos_token_id": [200002]}',
        "tokenizer.json": json.dumps({"model": {"vocab": {"a%d" % i: i for i in range(3000)}}}).encode(),
        "tokenizer_config.json": b'{"model_max_length": 131072}',
        "chat_template.jinja": b"{{ messages }}",
        "model.safetensors.index.json": json.dumps({"weight_map": {
            "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}).encode(),
        "model-00001-of-00002.safetensors": rand_bytes(3 * 1024 * 1024 + 12345, 1),
        "model-00002-of-00002.safetensors": rand_bytes(700 * 1024, 2),
        "original/model.safetensors": rand_bytes(300 * 1024, 3),
        "original/config.json": b'{"num_hidden_layers": 2}',
        "metal/model.bin": rand_bytes(50 * 1024, 4),
        "README.md": b"# tiny\n",
        "empty.txt": b"",
        "dup/one.bin": rand_bytes(200 * 1024, 5),
        "dup/two.bin": rand_bytes(200 * 1024, 5),
    }


DEFAULT = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
           "chat_template.jinja", "model.safetensors.index.json",
           "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def etag_of(data, lfs):
    if lfs:
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_lfs(path, data):
    return len(data) >= (1 << 20) or path.endswith(".safetensors")


class Hub:
    def __init__(self, name):
        if not os.access(EXE, os.X_OK):
            skip("gptoss-convert not built (%s)" % EXE)
        self.dir = os.path.join(BUILD, "hubtest", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "srv", "repos"))
        self.home = os.path.join(self.dir, "hfhome")
        self.cache = os.path.join(self.home, "hub")
        self.repos = {}
        self.proc = None

    def add_repo(self, rid, files):
        base = os.path.join(self.dir, "srv", "repos", rid)
        for p, data in files.items():
            full = os.path.join(base, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        self.repos[rid] = files

    def start(self):
        srv = os.path.join(self.dir, "srv")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "hubserver.py"), "--root", srv])
        for _ in range(400):
            if os.path.exists(os.path.join(srv, "ports")):
                break
            time.sleep(0.025)
        self.hub_port, self.cdn_port = map(int, open(os.path.join(srv, "ports")).read().split())
        self.endpoint = "http://127.0.0.1:%d" % self.hub_port
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def config(self, cfg):
        path = os.path.join(self.dir, "srv", "config.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, path)
        st = os.stat(path)  # make sure the server sees a new mtime even within one tick
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))

    def log(self):
        path = os.path.join(self.dir, "srv", "log.jsonl")
        if not os.path.exists(path):
            return []
        # the server logs a file body just after its last byte: wait until the log is quiet
        last, stable, t = -1, 0, time.time()
        while stable < 3 and time.time() - t < 5:
            n = os.path.getsize(path)
            stable = stable + 1 if n == last else 0
            last = n
            time.sleep(0.05)
        return [json.loads(l) for l in open(path) if l.strip()]

    def clear_log(self):
        path = os.path.join(self.dir, "srv", "log.jsonl")
        if os.path.exists(path):
            os.unlink(path)

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("HF_") and not k.startswith("HUGGING") and not k.startswith("GQ_HUB")}
        e.update(HF_ENDPOINT=self.endpoint, HF_HOME=self.home, GQ_HUB_BACKOFF_MS="50", GQ_HUB_STALL_SECONDS="10")
        for k, v in extra.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e

    def fetch(self, *args, env=None, timeout=120):
        p = subprocess.run([EXE, "fetch"] + list(args), env=env or self.env(), capture_output=True, text=True,
                           timeout=timeout)
        return p

    def spawn(self, *args, env=None):
        return subprocess.Popen([EXE, "fetch"] + list(args), env=env or self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def repo_dir(self, rid):
        return os.path.join(self.cache, "models--" + rid.replace("/", "--"))

    def check_snapshot(self, rid, snap, paths, what):
        """Every path is a relative symlink into blobs/<etag> with the right bytes."""
        files = self.repos[rid]
        for p in paths:
            full = os.path.join(snap, p)
            data = files[p]
            et = etag_of(data, is_lfs(p, data))
            ok_link = os.path.islink(full)
            check(ok_link, what + ": %s is a symlink" % p)
            if ok_link:
                target = os.readlink(full)
                want = "../" * (2 + p.count("/")) + "blobs/" + et
                check(target == want, what + ": %s links to %s" % (p, want), "(got %s)" % target)
            try:
                got = open(full, "rb").read()
            except OSError as e:
                got = None
            check(got == data, what + ": %s content" % p)


def need_fixture():
    """gptoss-fixture's path; skips (77) when it is not built or the real tokenizer it derives tiny's
    vocabulary from is missing (scripts/setup.sh installs it)."""
    fixture = os.path.join(BIN, "gptoss-fixture")
    if not os.access(fixture, os.X_OK):
        skip("gptoss-fixture not built")
    tools = os.environ.get("GQ_TOOLS_DIR", os.path.join(HERE, "..", "..", "tools"))
    if not os.path.isfile(os.path.join(tools, "node_modules", "@lenml", "tokenizer-gptoss", "models", "tokenizer.json")):
        skip("no real tokenizer.json under %s (run scripts/setup.sh)" % tools)
    return fixture


def read_tree(root):
    """{relative path: bytes} of every file under root (a checkpoint folder to serve)."""
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            full = os.path.join(d, n)
            with open(full, "rb") as f:
                files[os.path.relpath(full, root)] = f.read()
    return files


def last_line(s):
    lines = [l for l in s.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def body_bytes(log, match, port="cdn"):
    return sum(r["sent"] for r in log if r["port"] == port and match in r["path"] and r["method"] == "GET")
