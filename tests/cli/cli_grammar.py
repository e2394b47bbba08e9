#!/usr/bin/env python3
"""cli_grammar.py - every subcommand of gptoss-convert and gptoss-run against
the one grammar of gio_cli.h:

- `--opt=value`, `--opt value`, `-j1`, combined short flags, llama.cpp's
  spellings (-t, -p, -n, -r, -o md|csv|json|jsonl);
- the same wording for unknown options and missing values, exit 2;
- range checks that name the range, exit 2;
- the exit-code table (missing file 4, folder where a file is wanted 2,
  malformed file 3, output exists 7);
- every --json output, success and error, parsed by json.loads: stdout is
  exactly one JSON document, errors are {"error": {"code": N, "message"}}
  with N the exit code;
- help texts: what the command does, GGUF in convert/inspect/ppl, exit codes
  (the one table of gio_cli.h, in every command's --help, gptoss-fixture's too).

ppl's numbers are checked in tests/runtime; here its command line and every
--json it prints (success, --harmony, each error, a NaN model) are.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

BIN = os.environ.get("GQ_BIN_DIR", "bin")
CONV = os.path.join(BIN, "gptoss-convert")
RUN = os.path.join(BIN, "gptoss-run")
FIX = os.path.join(BIN, "gptoss-fixture")
for p in (CONV, RUN, FIX):
    if not os.access(p, os.X_OK):
        print(f"missing {p}: skipping")
        sys.exit(77)

fails = 0
checks = 0


def check(name, cond, detail=""):
    global fails, checks
    checks += 1
    if cond:
        print(f"ok   {name}")
    else:
        fails += 1
        print(f"FAIL {name} {detail}")


def run(args, stdin=None):
    r = subprocess.run(args, input=stdin, capture_output=True, timeout=240)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace"), r.stdout


def parse_json(name, raw):
    """stdout must be exactly one JSON document (strict UTF-8)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        check(f"{name}: stdout is one JSON document", False, f"{e}: {raw[:300]!r}")
        return None


def expect_json_ok(name, args, want_rc=0):
    rc, _, err, raw = run(args)
    check(f"{name}: exit {want_rc}", rc == want_rc, f"got {rc}: {err[-400:]}")
    j = parse_json(name, raw)
    check(f"{name}: JSON is no error object", j is not None and not (isinstance(j, dict) and "error" in j), str(j)[:200])
    return j


def expect_json_error(name, args, want_rc, msg_re=None):
    rc, _, err, raw = run(args)
    check(f"{name}: exit {want_rc}", rc == want_rc, f"got {rc}: {err[-400:]}")
    j = parse_json(name, raw)
    ok = (isinstance(j, dict) and set(j) == {"error"} and isinstance(j["error"], dict)
          and j["error"].get("code") == want_rc and isinstance(j["error"].get("message"), str))
    check(f"{name}: {{\"error\":{{code {want_rc}, message}}}} on stdout", ok, str(j)[:300])
    if ok and msg_re:
        check(f"{name}: message matches /{msg_re}/", re.search(msg_re, j["error"]["message"]) is not None,
              j["error"]["message"])
    check(f"{name}: message also on stderr", err.strip() != "", "")
    return j


def expect_usage(name, args, msg):
    """A usage error: exit 2, the exact message on stderr, nothing on stdout."""
    rc, out, err, _ = run(args)
    check(f"{name}: exit 2", rc == 2, f"got {rc}")
    check(f"{name}: says \"{msg}\"", msg in err, err[-300:])
    check(f"{name}: stdout empty", out == "", out[:200])


tmp = tempfile.mkdtemp(prefix="gq-cli-")
fx = os.path.join(tmp, "tiny")
rc, _, err, _ = run([FIX, "tiny", "-o", fx, "--no-sync"])
if rc != 0:
    print("fixture failed:", err)
    sys.exit(1)
G = os.path.join(tmp, "m.gptoss")
GG = os.path.join(tmp, "m.gguf")

# ---------------- gptoss-convert convert ----------------
C = "gptoss-convert convert"
# --opt=value, -j1, combined short flags (-qf), the json output
j = expect_json_ok("convert --quant=q8 -j1 --json", [CONV, "convert", fx, "--output=" + G, "--quant=q8", "-j1", "--json"])
check("convert --json: format gptoss, recipe q8", j is not None and j.get("format") == "gptoss" and j.get("recipe") == "q8")
rc, out, err, _ = run([CONV, "convert", fx, "-o", G, "-qfj", "2", "--quant", "q8"])
check("convert -qfj 2 (combined -q -f -j 2): exit 0, quiet", rc == 0 and out == "", f"{rc} {err[-300:]}")
rc, out, err, _ = run([CONV, "convert", "-j", "1", fx, "-o", GG, "--quant", "q8"])
check("convert -o X.gguf infers gguf", rc == 0 and open(GG, "rb").read(4) == b"GGUF", f"{rc} {err[-300:]}")
expect_usage("convert unknown option", [CONV, "convert", fx, "-o", G, "--x"], f"{C}: unknown option '--x' (see --help)")
expect_usage("convert unknown option with =", [CONV, "convert", fx, "-o", G, "--bogus=3"], f"{C}: unknown option '--bogus' (see --help)")
expect_usage("convert unknown short in a group", [CONV, "convert", fx, "-o", G, "-qz"], f"{C}: unknown option '-z' (see --help)")
expect_usage("convert missing value", [CONV, "convert", fx, "-o", G, "--quant"], f"{C}: option '--quant' needs a value")
expect_usage("convert -j missing value", [CONV, "convert", fx, "-o", G, "-j"], f"{C}: option '-j' needs a value")
expect_usage("convert -j0 out of range", [CONV, "convert", fx, "-o", G, "-j0"], "-j must be an integer in 1..256, not '0'")
expect_usage("convert --threads=300", [CONV, "convert", fx, "-o", G, "--threads=300"], "--threads must be an integer in 1..256")
expect_usage("convert -o x.gguf --format gptoss", [CONV, "convert", fx, "-o", os.path.join(tmp, "x.gguf"), "--format", "gptoss"], "the other format")
expect_usage("convert -o x.gptoss --format gguf", [CONV, "convert", fx, "-o", os.path.join(tmp, "x.gptoss"), "--format=gguf"], "the other format")
expect_usage("convert SRC is a file", [CONV, "convert", G, "-o", os.path.join(tmp, "y.gptoss")], "is a file: convert wants the checkpoint folder")
expect_usage("convert -o is a folder", [CONV, "convert", fx, "-o", tmp, "-f"], "is a folder")
expect_usage("convert --revision on a local path", [CONV, "convert", fx, "-o", os.path.join(tmp, "y.gptoss"), "--revision", "v1"], "--revision")
expect_json_error("convert --json exists", [CONV, "convert", fx, "-o", G, "--json"], 7, "already exists")
expect_json_error("convert --json usage", [CONV, "convert", fx, "-o", G, "--json", "--nope"], 2, "unknown option '--nope'")
expect_json_error("convert --json format clash", [CONV, "convert", fx, "-o", os.path.join(tmp, "x.gguf"), "--format", "gptoss", "--json"], 2)
# ORG/NAME@REV and --revision reach the hub (offline, empty cache: exit 6 naming the repo)
env_off = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=os.path.join(tmp, "hub"), HF_HOME=os.path.join(tmp, "hf"))
r = subprocess.run([CONV, "convert", "nobody-xyz/none@v9", "-o", os.path.join(tmp, "h.gptoss"), "--json"], capture_output=True, env=env_off, timeout=60)
check("convert ORG/NAME@REV offline: exit 6", r.returncode == 6, f"{r.returncode} {r.stderr[-300:]!r}")
jj = parse_json("convert ORG/NAME@REV", r.stdout)
check("convert ORG/NAME@REV offline: JSON error 6", isinstance(jj, dict) and isinstance(jj.get("error"), dict) and jj["error"].get("code") == 6, str(jj))
check("convert ORG/NAME@REV: the revision is passed on", "v9" in r.stderr.decode(), r.stderr[-300:])
r = subprocess.run([CONV, "convert", "nobody-xyz/none@v9", "--revision", "v8", "-o", os.path.join(tmp, "h.gptoss")], capture_output=True, env=env_off, timeout=60)
check("convert ORG/NAME@REV --revision other: exit 2", r.returncode == 2, f"{r.returncode}")

# ---------------- gptoss-convert inspect ----------------
ji = expect_json_ok("inspect .gptoss --json", [CONV, "inspect", G, "--json"])
jg = expect_json_ok("inspect .gguf --json", [CONV, "inspect", "--json", GG])
common = ["file", "format", "version", "file_bytes", "tensor_count", "tensor_bytes"]
if ji and jg:
    check("inspect --json: one schema (common keys first, in order)", list(ji)[:6] == common and list(jg)[:6] == common, f"{list(ji)[:6]} {list(jg)[:6]}")
    check("inspect --json: format names the format", ji["format"] == "gptoss" and jg["format"] == "gguf")
    check("inspect --json: file_bytes = the file size", ji["file_bytes"] == os.path.getsize(G) and jg["file_bytes"] == os.path.getsize(GG))
    check("inspect --json: .gptoss lists no tensors without --tensors", "tensors" not in ji.get("header", {}))
jt = expect_json_ok("inspect -t --json (.gptoss)", [CONV, "inspect", G, "-t", "--json"])
jgt = expect_json_ok("inspect --tensors --json (.gguf)", [CONV, "inspect", GG, "--tensors", "--json"])
if jt and jgt:
    check("inspect --tensors: tensors listed, count = tensor_count (both formats)",
          len(jt["header"].get("tensors", [])) == jt["tensor_count"] and len(jgt.get("tensors", [])) == jgt["tensor_count"])
    check("inspect --tensors: tensor_bytes = sum of sizes (.gptoss)", sum(t["size"] for t in jt["header"]["tensors"]) == jt["tensor_bytes"])
    check("inspect --tensors: tensor_bytes = sum of sizes (.gguf)", sum(t["size"] for t in jgt["tensors"]) == jgt["tensor_bytes"])
expect_json_error("inspect missing file", [CONV, "inspect", os.path.join(tmp, "nope.gptoss"), "--json"], 4)
expect_json_error("inspect a folder", [CONV, "inspect", tmp, "--json"], 2, "is a folder")
bad = os.path.join(tmp, "bad.bin")
open(bad, "wb").write(b"NOTAMODEL" * 10)
expect_json_error("inspect bad magic", [CONV, "inspect", bad, "--json"], 3, "neither a .gptoss nor a GGUF")
expect_usage("inspect unknown option", [CONV, "inspect", G, "--x"], "gptoss-convert inspect: unknown option '--x' (see --help)")
rc, out, err, _ = run([CONV, "inspect", "-t", G])
check("inspect -t (text) lists tensors", rc == 0 and "tensors:" in out)

# ---------------- gptoss-convert verify ----------------
jv = expect_json_ok("verify --json", [CONV, "verify", "--json", G])
check("verify --json ok true", jv is not None and jv.get("ok") is True and jv.get("mismatches") == 0)
expect_json_error("verify missing file", [CONV, "verify", os.path.join(tmp, "nope"), "--json"], 4)
expect_json_error("verify not a .gptoss", [CONV, "verify", bad, "--json"], 3)
expect_json_error("verify folder", [CONV, "verify", tmp, "--json"], 2, "is a folder")
expect_usage("verify unknown option", [CONV, "verify", G, "-x"], "gptoss-convert verify: unknown option '-x' (see --help)")
corrupt = os.path.join(tmp, "corrupt.gptoss")
data = bytearray(open(G, "rb").read())
data[-100] ^= 0xFF
open(corrupt, "wb").write(bytes(data))
rc, out, err, raw = run([CONV, "verify", corrupt, "--json"])
jc = parse_json("verify corrupt", raw)
check("verify corrupt: exit 5, JSON lists the mismatch", rc == 5 and jc is not None and jc.get("mismatches", 0) >= 1 and jc.get("bad"), f"{rc} {jc}")

# ---------------- gptoss-convert fetch ----------------
expect_usage("fetch missing value", [CONV, "fetch", "a/b", "--revision"], "gptoss-convert fetch: option '--revision' needs a value")
expect_usage("fetch --connections=99", [CONV, "fetch", "a/b", "--connections=99"], "--connections must be an integer in 1..64, not '99'")
expect_usage("fetch unknown", [CONV, "fetch", "a/b", "--x"], "gptoss-convert fetch: unknown option '--x' (see --help)")
expect_json_error("fetch --json usage", [CONV, "fetch", "--json"], 2, "missing REPO_ID")
r = subprocess.run([CONV, "fetch", "nobody-xyz/none", "--json", "--revision=v1"], capture_output=True, env=env_off, timeout=60)
check("fetch offline: exit 6", r.returncode == 6, str(r.returncode))
jf = parse_json("fetch offline --json", r.stdout)
check("fetch offline --json: error object only", isinstance(jf, dict) and set(jf) == {"error"} and isinstance(jf["error"], dict) and jf["error"].get("code") == 6, str(jf))

# ---------------- gptoss-run tokenize / detokenize ----------------
jt = expect_json_ok("tokenize --text=... --json", [RUN, "tokenize", G, "--text=Hello world", "--json"])
rc, out, _, _ = run([RUN, "tokenize", G, "--text", "Hello world"])
check("tokenize --json = the text ids", jt is not None and [int(x) for x in out.split()] == jt)
expect_json_error("tokenize missing FILE", [RUN, "tokenize", os.path.join(tmp, "nope.gptoss"), "--text", "x", "--json"], 4)
expect_json_error("tokenize folder", [RUN, "tokenize", tmp, "--text", "x", "--json"], 2, "is a folder")
expect_json_error("tokenize bad file", [RUN, "tokenize", bad, "--text", "x", "--json"], 3)
expect_json_error("tokenize missing --file", [RUN, "tokenize", G, "--file", os.path.join(tmp, "nope.txt"), "--json"], 4)
expect_usage("tokenize missing value", [RUN, "tokenize", G, "--text"], "gptoss-run tokenize: option '--text' needs a value")
expect_usage("tokenize unknown", [RUN, "tokenize", G, "--x"], "gptoss-run tokenize: unknown option '--x' (see --help)")
if jt:
    jd = expect_json_ok("detokenize --ids=... --json", [RUN, "detokenize", G, "--ids=" + ",".join(map(str, jt)), "--json"])
    check("detokenize round trip", jd is not None and jd.get("text") == "Hello world" and jd.get("valid_utf8") is True, str(jd))
# a lone UTF-8 lead byte: the JSON stays valid (U+FFFD) and says so
ids_e9 = None
rc, out, _, _ = run([RUN, "tokenize", G, "--text", "\u00e9"])
if rc == 0 and out.split():
    rc2, _, _, raw = run([RUN, "detokenize", G, "--ids", out.split()[0]])
    if rc2 == 0 and len(raw) == 1:
        jd = expect_json_ok("detokenize partial UTF-8 --json", [RUN, "detokenize", G, "--ids", out.split()[0], "--json"])
        check("detokenize partial UTF-8: U+FFFD, valid_utf8 false", jd is not None and jd["text"] == "\ufffd" and jd["valid_utf8"] is False, str(jd))
expect_json_error("detokenize bad id", [RUN, "detokenize", G, "--ids", "999999999", "--json"], 3, "is not a token")
expect_json_error("detokenize bad ids text", [RUN, "detokenize", G, "--ids", "1,x", "--json"], 2)

# ---------------- gptoss-run generate ----------------
jgen = expect_json_ok("generate --json -n4 --temp=0 -t1", [RUN, "generate", G, "--prompt=Hi", "-n4", "--temp=0", "-t1", "--json"])
check("generate --json keys", jgen is not None and {"final", "analysis", "prompt_tokens", "generated_tokens", "stop"} <= set(jgen))
jgen2 = expect_json_ok("generate -p -n 4 -c 512 -s 7 --json", [RUN, "generate", "-p", "Hi", "-n", "4", "-c", "512", "-s", "7", "--temperature", "0", G, "--json"])
check("generate: same greedy output either spelling", jgen and jgen2 and jgen["final"] == jgen2["final"])
expect_json_error("generate missing model", [RUN, "generate", os.path.join(tmp, "nope.gptoss"), "--prompt", "x", "--json"], 4)
expect_json_error("generate folder", [RUN, "generate", tmp, "--prompt", "x", "--json"], 2, "is a folder")
expect_json_error("generate bad model", [RUN, "generate", bad, "--prompt", "x", "--json"], 3)
expect_json_error("generate --top-p=2", [RUN, "generate", G, "--prompt", "x", "--top-p=2", "--json"], 2, r"in 0\.\.1")
expect_json_error("generate --ctx missing", [RUN, "generate", G, "--prompt", "x", "--json", "--ctx"], 2, "option '--ctx' needs a value")
expect_usage("generate unknown", [RUN, "generate", G, "--prompt", "x", "--frob"], "gptoss-run generate: unknown option '--frob' (see --help)")
expect_usage("generate -n0", [RUN, "generate", G, "--prompt", "x", "-n0"], "-n must be an integer in 1..1048576, not '0'")
expect_usage("generate --reasoning", [RUN, "generate", G, "--prompt", "x", "--reasoning=max"], "--reasoning must be low, medium or high")
expect_usage("generate --backend", [RUN, "generate", G, "--prompt", "x", "--backend", "tpu"], "--backend takes cpu, vulkan, metal or auto")

# ---------------- gptoss-run chat ----------------
rc, out, err, _ = run([RUN, "chat", G, "-n2", "-t1", "--temp=0", "--backend=cpu"], stdin=b"Hi\n\n")
check("chat -n2 -t1 --temp=0: exit 0", rc == 0, f"{rc} {err[-300:]}")
expect_usage("chat unknown", [RUN, "chat", G, "--json"], "gptoss-run chat: unknown option '--json' (see --help)")
expect_usage("chat missing value", [RUN, "chat", G, "--seed"], "gptoss-run chat: option '--seed' needs a value")
expect_usage("chat --temperature=-1", [RUN, "chat", G, "--temperature=-1"], "--temperature must be a number in 0..100, not '-1'")
rc, _, _, _ = run([RUN, "chat", os.path.join(tmp, "nope.gptoss")])
check("chat missing model: exit 4", rc == 4, str(rc))

# ---------------- gptoss-run bench ----------------
jb = expect_json_ok("bench -p8 -n2 -r2 -t1 --json", [RUN, "bench", G, "-p8", "-n2", "-r2", "-t1", "--json", "--backend=cpu"])
check("bench --json keys", jb is not None and jb.get("prompt") == 8 and jb.get("gen") == 2 and jb.get("runs") == 2 and "backend" in jb and "device" in jb)
jbj = expect_json_ok("bench -o json", [RUN, "bench", G, "--n-prompt=8", "--n-gen=2", "--repetitions=3", "--threads=1", "-o", "json"])
if isinstance(jbj, list):
    check("bench -o json: rows pp8 and tg2", [(r["n_prompt"], r["n_gen"]) for r in jbj] == [(8, 0), (0, 2)], str(jbj)[:200])
    for r in jbj:
        ts = r["samples_ts"]
        m = sum(ts) / len(ts)
        sd = (sum((x - m) ** 2 for x in ts) / (len(ts) - 1)) ** 0.5
        check(f"bench -o json: avg_ts/stddev_ts are the mean/sample stddev of the 3 samples ({r['n_prompt']},{r['n_gen']})",
              len(ts) == 3 and abs(r["avg_ts"] - m) <= 1e-9 * max(1, m) and abs(r["stddev_ts"] - sd) <= 1e-9 * max(1, sd) + 1e-12,
              str(r))
        check("bench -o json: backend and device named", r["backends"] and r["device"])
else:
    check("bench -o json: an array", False, str(jbj)[:200])
rc, out, err, raw = run([RUN, "bench", G, "-p", "0", "-n", "2", "-r", "1", "-t", "1", "-o", "jsonl"])
lines = [l for l in out.splitlines() if l]
rows = [json.loads(l) for l in lines] if rc == 0 else []
check("bench -p 0 -o jsonl: one tg2 row only (no prefill)", rc == 0 and len(rows) == 1 and rows[0]["n_gen"] == 2 and rows[0]["n_prompt"] == 0, out[:300])
rc, out, err, _ = run([RUN, "bench", G, "-p4", "-n2", "-r2", "-t1", "-o", "md"])
check("bench -o md: pp4 and tg2 rows with +- stddev",
      rc == 0 and re.search(r"\|\s+pp4 \|\s+[0-9.]+ \u00b1 [0-9.]+ \|", out) and re.search(r"\|\s+tg2 \|\s+[0-9.]+ \u00b1 [0-9.]+ \|", out)
      and "| model" in out and "backend" in out and "device" in out, out)
rc, out, err, _ = run([RUN, "bench", G, "-p4", "-n2", "-r2", "-t1", "-o", "csv"])
cl = out.splitlines()
check("bench -o csv: header + 2 rows", rc == 0 and len(cl) == 3 and cl[0].startswith("model_filename,") and cl[1].count(",") == cl[0].count(","), out)
expect_usage("bench -o bad", [RUN, "bench", G, "-o", "xml"], "-o takes text, md, csv, json or jsonl, not 'xml'")
expect_usage("bench -r0", [RUN, "bench", G, "-r0"], "-r must be an integer in 1..1000, not '0'")
expect_usage("bench -p -1", [RUN, "bench", G, "-p", "-1"], "-p must be an integer in 0..1048576, not '-1'")
expect_usage("bench unknown", [RUN, "bench", G, "--x"], "gptoss-run bench: unknown option '--x' (see --help)")
expect_usage("bench -t missing", [RUN, "bench", G, "-t"], "gptoss-run bench: option '-t' needs a value")
expect_json_error("bench --json missing model", [RUN, "bench", os.path.join(tmp, "nope.gptoss"), "--json"], 4)
expect_json_error("bench --json bad model", [RUN, "bench", bad, "--json"], 3)
expect_json_error("bench --json range", [RUN, "bench", G, "--json", "-r", "5000"], 2, r"in 1\.\.1000")

# ---------------- gptoss-convert convert: Hub revisions, original/ alone ----------------
r = subprocess.run([CONV, "convert", "nobody-xyz/none", "--revision", "v7", "-o", os.path.join(tmp, "h.gptoss"), "--json"],
                   capture_output=True, env=env_off, timeout=60)
jr = parse_json("convert ORG/NAME --revision REV", r.stdout)
check("convert ORG/NAME --revision REV offline: exit 6, JSON error naming the revision",
      r.returncode == 6 and isinstance(jr, dict) and jr.get("error", {}).get("code") == 6
      and "'v7'" in jr["error"]["message"], f"{r.returncode} {jr}")
oo = os.path.join(tmp, "oo")
rc, _, err, _ = run([FIX, "tiny", "-o", oo, "--original-only", "--no-sync"])
check("fixture --original-only", rc == 0, err[-300:])
expect_json_error("convert original/ without a tokenizer", [CONV, "convert", os.path.join(oo, "original"), "-o",
                  os.path.join(tmp, "oo.gptoss"), "--json"], 3, re.escape(os.path.join(oo, "tokenizer.json")) + " is missing")
expect_json_error("convert SRC is a file (JSON)", [CONV, "convert", G, "-o", os.path.join(tmp, "y.gptoss"), "--json"], 2,
                  "is a file: convert wants the checkpoint folder")
jfx = expect_json_ok("gptoss-fixture --json", [FIX, "tiny", "-o", os.path.join(tmp, "fx2"), "--no-sync", "--json"])
check("gptoss-fixture --json names the preset", jfx is not None and jfx.get("preset") == "tiny", str(jfx)[:200])
expect_json_error("verify a GGUF", [CONV, "verify", GG, "--json"], 3, "is a GGUF")

# ---------------- gptoss-run ppl ----------------
text = os.path.join(tmp, "text.txt")
with open(text, "w") as f:
    f.write(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime", "harmony_ppl.txt")).read() * 6)
jp = expect_json_ok("ppl --file --ctx=64 -t1 --json", [RUN, "ppl", G, "--file", text, "--ctx=64", "-t1", "--json"])
check("ppl --json: ppl, scored, chunks, backend", jp is not None and jp["ppl"] > 1 and jp["scored"] > 0 and jp["chunks"] >= 1
      and jp.get("backend") == "cpu", str(jp)[:300])
jh = expect_json_ok("ppl --harmony --json", [RUN, "ppl", G, "--file", text, "--harmony", "--ctx", "512", "-t", "1", "--json"])
check("ppl --harmony --json: the harmony object", jh is not None and jh["harmony"]["prefix_tokens"] > 0
      and jh["harmony"]["evaluated_tokens"] == jh["chunks"] * 512, str(jh)[:300])
ref = os.path.join(tmp, "ref.bin")
expect_json_ok("ppl --save-ref --json", [RUN, "ppl", G, "--file", text, "--ctx", "64", "--save-ref", ref, "--json"])
jr = expect_json_ok("ppl --ref --json", [RUN, "ppl", G, "--file", text, "--ctx", "64", "--ref", ref, "--max-kld", "1e-6",
                    "--min-top1=0.99", "--json"])
check("ppl --ref --json: the ref object, pass", jr is not None and jr["ref"]["pass"] is True and jr["ref"]["failed"] == []
      and jr["ref"]["thresholds"]["min_top1"] == 0.99, str(jr)[:300])
expect_usage("ppl --min-top1 95 (a percentage) refused", [RUN, "ppl", G, "--file", text, "--ref", ref, "--min-top1", "95"],
             "--min-top1 must be a number in 0..1, not '95'")
expect_json_error("ppl --min-top1 95 --json", [RUN, "ppl", G, "--file", text, "--ref", ref, "--min-top1=95", "--json"], 2,
                  r"in 0\.\.1")
expect_json_error("ppl --save-ref onto an existing file", [RUN, "ppl", G, "--file", text, "--ctx", "64", "--save-ref", ref,
                  "--json"], 7, "exists")
expect_json_error("ppl --ref from another --ctx", [RUN, "ppl", G, "--file", text, "--ctx", "128", "--ref", ref, "--json"], 3,
                  "context length")
ref512 = os.path.join(tmp, "ref512.bin")
expect_json_ok("ppl --save-ref --ctx 512", [RUN, "ppl", G, "--file", text, "--ctx", "512", "--save-ref", ref512, "--json"])
expect_json_error("ppl --harmony against a reference made without it", [RUN, "ppl", G, "--file", text, "--ctx", "512",
                  "--harmony", "--ref", ref512, "--json"], 3, r"text \(token ids\)")
expect_json_error("ppl --harmony --ctx too small", [RUN, "ppl", G, "--file", text, "--harmony", "--ctx", "64", "--json"], 2,
                  "too small for --harmony")
expect_json_error("ppl missing model", [RUN, "ppl", os.path.join(tmp, "nope.gptoss"), "--file", text, "--json"], 4)
expect_json_error("ppl missing text", [RUN, "ppl", G, "--file", os.path.join(tmp, "nope.txt"), "--json"], 4)
expect_json_error("ppl folder", [RUN, "ppl", tmp, "--file", text, "--json"], 2, "is a folder")
expect_json_error("ppl bad model", [RUN, "ppl", bad, "--file", text, "--json"], 3)
expect_json_error("ppl --ids missing", [RUN, "ppl", G, "--ids", os.path.join(tmp, "few.json"), "--json"], 4)
with open(os.path.join(tmp, "few.json"), "w") as f:
    f.write("[1, 2, 3]")
expect_json_error("ppl fewer tokens than a chunk", [RUN, "ppl", G, "--ids", os.path.join(tmp, "few.json"), "--json"], 3,
                  "fewer than one chunk")
expect_json_error("ppl --ids not ids", [RUN, "ppl", G, "--ids", bad, "--json"], 3)
expect_json_error("ppl no input", [RUN, "ppl", G, "--json"], 2, "exactly one of --file / --ids")
expect_json_error("ppl thresholds without a reference", [RUN, "ppl", G, "--file", text, "--max-kld", "1", "--json"], 2)
expect_usage("ppl unknown", [RUN, "ppl", G, "--file", text, "--x"], "gptoss-run ppl: unknown option '--x' (see --help)")
expect_usage("ppl --ctx missing", [RUN, "ppl", G, "--file", text, "--ctx"], "gptoss-run ppl: option '--ctx' needs a value")
expect_usage("ppl --ctx=2", [RUN, "ppl", G, "--file", text, "--ctx=2"], "--ctx must be an integer in 4..1048576, not '2'")
# a NaN model: the final norm's f32 values patched to NaN (hashes are checked by verify only)
nan = os.path.join(tmp, "nan.gptoss")
rc, out, _, _ = run([CONV, "inspect", G, "--tensors", "--json"])
norm = [t for t in json.loads(out)["header"]["tensors"] if t["name"] == "norm"][0] if rc == 0 else None
if norm and norm["type"] == "f32":
    data = bytearray(open(G, "rb").read())
    data[norm["offset"]:norm["offset"] + norm["size"]] = b"\x00\x00\xc0\x7f" * (norm["size"] // 4)
    open(nan, "wb").write(bytes(data))
    jn = expect_json_error("ppl on a NaN model", [RUN, "ppl", nan, "--file", text, "--ctx", "64", "--json"], 10, "NaN")
    check("ppl NaN model: the message names the chunk and token", jn is not None and "chunk 1, token" in jn["error"]["message"],
          str(jn))
    expect_json_error("ppl --harmony on a NaN model", [RUN, "ppl", nan, "--file", text, "--harmony", "--json"], 10, "NaN")
else:
    check("inspect finds the f32 final norm", False, str(norm))

# ---------------- gptoss-run tokenize --harmony, generate with tools ----------------
jth = expect_json_ok("tokenize --harmony --json", [RUN, "tokenize", G, "--text", "Hello world", "--harmony", "--json"])
check("tokenize --harmony: the conversation, then the text's ids", jth is not None and jt is not None
      and len(jth) > len(jt) + 10 and jth[-len(jt):] == jt, f"{jth} {jt}")
conv = os.path.join(tmp, "conv.json")
tools = os.path.join(tmp, "tools.json")
tool_defs = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
with open(conv, "w") as f:
    json.dump([{"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "thinking": "use the tool",
                "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
               {"role": "tool", "content": "21 C, clear"}], f)
with open(tools, "w") as f:
    json.dump(tool_defs, f)
jg = expect_json_ok("generate --messages --tools --json", [RUN, "generate", G, "--messages", conv, "--tools", tools,
                    "-n", "3", "--temp", "0", "-t", "1", "--json"])
check("generate --json: tool_call key (null or the call)", jg is not None and "tool_call" in jg
      and (jg["tool_call"] is None or {"name", "arguments", "recipient", "content_type"} <= set(jg["tool_call"])), str(jg))
with open(os.path.join(tmp, "conv2.json"), "w") as f:
    json.dump({"messages": json.load(open(conv)), "tools": tool_defs}, f)
jg2 = expect_json_ok("generate --messages {messages, tools} + --prompt", [RUN, "generate", G, "--messages",
                     os.path.join(tmp, "conv2.json"), "--prompt", "and Oslo?", "-n", "2", "--temp", "0", "--json"])
check("generate: tools in the file are rendered (a longer prompt than without)", jg2 is not None and jg is not None
      and jg2["prompt_tokens"] > jg["prompt_tokens"], f"{jg2} {jg}")
with open(os.path.join(tmp, "orphan.json"), "w") as f:
    json.dump([{"role": "tool", "content": "x"}], f)
expect_json_error("generate: a tool result with no call", [RUN, "generate", G, "--messages", os.path.join(tmp, "orphan.json"),
                  "--json"], 3, "no assistant tool call")
expect_json_error("generate: --messages not a conversation", [RUN, "generate", G, "--messages", bad, "--json"], 3)
expect_json_error("generate: --messages missing", [RUN, "generate", G, "--messages", os.path.join(tmp, "nope.json"), "--json"], 4)
expect_json_error("generate: --tools missing", [RUN, "generate", G, "--prompt", "x", "--tools", conv + "x", "--json"], 4)
with open(os.path.join(tmp, "tools_bad.json"), "w") as f:
    json.dump({"name": "x"}, f)
expect_json_error("generate: --tools an object", [RUN, "generate", G, "--prompt", "x", "--tools",
                  os.path.join(tmp, "tools_bad.json"), "--json"], 3, "not a JSON array")
with open(os.path.join(tmp, "tools_nodesc.json"), "w") as f:
    json.dump([{"type": "function", "function": {"name": "f"}}], f)
expect_json_error("generate: a tool without description", [RUN, "generate", G, "--prompt", "x", "--tools",
                  os.path.join(tmp, "tools_nodesc.json"), "--json"], 3, "tools\\[0\\]")
rc, out, err, _ = run([RUN, "chat", G, "-n2", "-t1", "--temp=0", "--tools", tools], stdin=b"Hi\n\n")
check("chat --tools: exit 0", rc == 0, f"{rc} {err[-300:]}")

# ---------------- help texts ----------------
helps = [("gptoss-convert", [CONV, "--help"]), ("gptoss-run", [RUN, "--help"])]
for c in ("convert", "inspect", "verify", "fetch"):
    helps.append((f"gptoss-convert {c}", [CONV, c, "--help"]))
for c in ("tokenize", "detokenize", "ppl", "bench", "generate", "chat"):
    helps.append((f"gptoss-run {c}", [RUN, c, "-h"]))
helps.append(("gptoss-fixture", [FIX, "--help"]))
for name, args in helps:
    rc, out, _, _ = run(args)
    check(f"{name} --help: exit 0, the exit-code table", rc == 0 and "exit codes:" in out and "9 backend failure" in out and "130 interrupted" in out, out[-400:])
    check(f"{name} --help: says what it does (a sentence before the options)", len(out.split("\n\n")) >= 2)
for c in ("convert", "inspect"):
    rc, out, _, _ = run([CONV, c, "--help"])
    check(f"gptoss-convert {c} --help mentions GGUF", "GGUF" in out)
gio_h = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "formats", "io", "gio_cli.h")).read()
table = re.search(r"#define GIO_EXIT_HELP(.*?)\n\n", gio_h, re.S).group(1)
lines = [l.encode().decode("unicode_escape") for l in re.findall(r'"((?:[^"\\]|\\.)*)"', table)]
check("GIO_EXIT_HELP read from gio_cli.h", "130 interrupted" in "".join(lines), str(lines))
for name, args in helps:
    rc, out, _, _ = run(args)
    check(f"{name} --help: the exit codes are gio_cli.h's GIO_EXIT_HELP, verbatim", "".join(lines) in out)
rc, out, _, _ = run([RUN, "ppl", "--help"])
check("ppl --help: FILE (.gptoss or GGUF), --harmony, --min-top1 is a fraction",
      "(.gptoss or GGUF)" in out and "--harmony" in out and "0.95" in out, out[:600])
for c in ("generate", "chat"):
    rc, out, _, _ = run([RUN, c, "--help"])
    check(f"gptoss-run {c} --help: GGUF and --tools", "GGUF" in out and "--tools" in out)

print(f"{checks - fails}/{checks} checks passed")
subprocess.run(["rm", "-rf", tmp])
sys.exit(1 if fails else 0)
