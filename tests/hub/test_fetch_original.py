#!/usr/bin/env python3
"""The original/ layout downloaded alone, as OpenAI's instructions do
(`--include "original/*"`): no tokenizer.json, no generation_config.json, a
config.json with OpenAI's keys and no token ids.

- `gptoss-fixture tiny --original-only` writes such a folder; converting it
  without a tokenizer fails with exit 3 naming the exact missing file and the
  fetch command; with the repo's tokenizer files copied in it converts, and
  the end-of-sequence ids are the tokenizer's stop tokens <|return|>,
  <|endoftext|>, <|call|> in generation_config.json's order: the same
  hyper-parameters and tensors as converting the full Hugging Face layout.
- Served by the local hub, `fetch --include 'original/*'` puts original/
  alone in the cache; `convert SNAPSHOT/original` fetches tokenizer.json and
  tokenizer_config.json of the same repo AT THE SAME COMMIT (the request log
  says so) and converts; with HF_HUB_OFFLINE=1 it names the file and the
  exact command (repo and commit) and sends no request."""
import json
import os
import shutil
import subprocess

from hubtest import EXE, Hub, check, finish, need_fixture, read_tree

FIXTURE = need_fixture()


def run(args, env=None, timeout=150):
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)


def hparams(path):
    p = run([EXE, "inspect", path, "--json"])
    return json.loads(p.stdout)["header"]["hparams"] if p.returncode == 0 else None


def tensors(path):
    """name, type, shape, size, xxh3 of every tensor (offsets differ with the header)."""
    p = run([EXE, "inspect", path, "--tensors", "--json"])
    if p.returncode != 0:
        return None
    return [(t["name"], t["type"], t["shape"], t["size"], t.get("xxh3")) for t in json.loads(p.stdout)["header"]["tensors"]]


R = "acme/tiny-original"
hub = Hub("original")
work = hub.dir
full = os.path.join(work, "srv", "repos", R)
os.makedirs(os.path.dirname(full), exist_ok=True)
p = run([FIXTURE, "tiny", "-o", full, "--original", "--no-sync"])
check(p.returncode == 0, "gptoss-fixture tiny --original", p.stderr[-300:])
oo = os.path.join(work, "oo")
p = run([FIXTURE, "tiny", "-o", oo, "--original-only", "--no-sync", "--json"])
check(p.returncode == 0, "gptoss-fixture tiny --original-only", p.stderr[-300:])
if p.returncode != 0:
    finish("hub_fetch_original")
j = json.loads(p.stdout)
check(j.get("original_only") is True, "fixture --json says original_only", p.stdout[:200])
listing = sorted(os.path.relpath(os.path.join(d, n), oo) for d, _, ns in os.walk(oo) for n in ns)
check(listing == ["original/config.json", "original/model.safetensors"], "--original-only writes original/ alone",
      str(listing))
ocfg = json.load(open(os.path.join(oo, "original", "config.json")))
check(not any("token_id" in k for k in ocfg), "original/config.json names no token ids", str(list(ocfg)))

# the reference: the full Hugging Face layout of the same weights
ref = os.path.join(work, "full.gptoss")
p = run([EXE, "convert", full, "-o", ref, "-q"])
check(p.returncode == 0, "convert the full layout", p.stderr[-300:])
ref_hp, ref_t = hparams(ref), tensors(ref)
tok = json.load(open(os.path.join(full, "tokenizer.json")))
special = {t["content"]: t["id"] for t in tok["added_tokens"]}
want_eos = [special["<|return|>"], special["<|endoftext|>"], special["<|call|>"]]
gen = json.load(open(os.path.join(full, "generation_config.json")))
check(gen["eos_token_id"] == want_eos, "the fixture's generation_config eos list is the stop tokens in order",
      "%s vs %s" % (gen["eos_token_id"], want_eos))

# no tokenizer, no hub: exit 3 naming the exact file and what to do
out = os.path.join(work, "oo.gptoss")
for src in (os.path.join(oo, "original"), oo):
    p = run([EXE, "convert", src, "-o", out, "--json"], env=dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=hub.home))
    check(p.returncode == 3, "convert %s without a tokenizer: exit 3" % src, p.stderr[-300:])
    try:
        msg = json.loads(p.stdout)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        msg = ""
    check(os.path.join(oo, "tokenizer.json") + " is missing" in msg, "the message names %s/tokenizer.json" % oo, msg)
    check("gptoss-convert fetch ORG/NAME --include tokenizer.json --include tokenizer_config.json" in msg
          and "--local-dir " + oo in msg, "the message gives the fetch command", msg)
check(not os.path.exists(out), "nothing written")

# the tokenizer files copied in: eos ids from the stop tokens, the same model
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join(full, f), os.path.join(oo, f))
p = run([EXE, "convert", os.path.join(oo, "original"), "-o", out, "-q"])
check(p.returncode == 0, "convert original/ with the tokenizer beside it", p.stderr[-300:])
hp = hparams(out)
check(hp is not None and hp["eos_ids"] == want_eos, "eos ids = <|return|>, <|endoftext|>, <|call|>",
      str(hp and hp["eos_ids"]))
check(hp == ref_hp, "hyper-parameters equal the full layout's (eos, pad, bos too)", "%s\n%s" % (hp, ref_hp))
check(tensors(out) == ref_t and ref_t, "tensors equal the full layout's (type, shape, size, xxh3)")

# through the hub: original/* alone in the cache, the tokenizer fetched at the same commit
hub.repos[R] = read_tree(full)
hub.start()
try:
    p = hub.fetch(R, "--include", "original/*", "--json")
    check(p.returncode == 0, "fetch --include 'original/*'", p.stderr[-300:])
    fj = json.loads(p.stdout) if p.returncode == 0 else {}
    snap, commit = fj.get("snapshot", ""), fj.get("commit", "")
    check(sorted(f["path"] for f in fj.get("files", [])) == ["original/config.json", "original/model.safetensors"],
          "the snapshot holds original/ alone", str(fj.get("files")))
    # offline: the exact command, with this repo and commit; no request
    hub.clear_log()
    out2 = os.path.join(work, "hub.gptoss")
    p = run([EXE, "convert", os.path.join(snap, "original"), "-o", out2], env=hub.env(HF_HUB_OFFLINE=1))
    check(p.returncode == 3, "offline convert of an original/-only snapshot: exit 3", p.stderr[-300:])
    check("gptoss-convert fetch %s --revision %s --include tokenizer.json" % (R, commit) in p.stderr,
          "offline: the message names the repo and commit", p.stderr[-500:])
    check("HF_HUB_OFFLINE" in p.stderr, "offline: says nothing was fetched because of HF_HUB_OFFLINE", p.stderr[-300:])
    check(hub.log() == [], "offline: no request")
    # online: fetched at the snapshot's commit, then converted
    hub.clear_log()
    p = run([EXE, "convert", os.path.join(snap, "original"), "-o", out2], env=hub.env())
    check(p.returncode == 0, "convert SNAPSHOT/original online: exit 0", p.stderr[-500:])
    check("fetched its tokenizer from %s at %s" % (R, commit) in p.stderr, "says what it fetched", p.stderr[-300:])
    got = [r["path"] for r in hub.log() if "/resolve/" in r["path"]]
    check(any(x.endswith("/resolve/%s/tokenizer.json" % commit) for x in got)
          and any(x.endswith("/resolve/%s/tokenizer_config.json" % commit) for x in got),
          "tokenizer.json and tokenizer_config.json requested at the snapshot's commit", str(got))
    check(not any("safetensors" in x for x in got), "no weights fetched again", str(got))
    check(os.path.isfile(os.path.join(snap, "tokenizer.json")), "the tokenizer landed in the same snapshot")
    check(hparams(out2) == ref_hp, "hub route: the same hyper-parameters as the full layout")
    check(tensors(out2) == ref_t, "hub route: the same tensors")
finally:
    hub.stop()
finish("hub_fetch_original")
