// gguf_proof.mjs - the GGUF export checked against real llama.cpp and an
// independent GGUF parser, on the tiny synthetic checkpoint:
//
// for each recipe (experts mxfp4 + rest q8, all q8, all q4):
//   1. gptoss-convert convert tiny -> R.gguf and -> R.gptoss (same recipe);
//   2. @huggingface/gguf reads every KV and tensor header of R.gguf and they
//      match our inspect --json and tokenizer.json (hf_gguf_check.mjs);
//   3. llama.cpp (node-llama-cpp, prebuilt CPU build) loads R.gguf and
//      tokenizes varied texts to the same ids as our tokenizer
//      (gptoss-run tokenize on R.gptoss);
//   4. llama.cpp's next-token logits after a text of more than 128 tokens
//      (several positions, across the 128-token sliding window) match our
//      runtime's on R.gptoss: top-1 identical, largest difference reported
//      and bounded (see TOL below).
// Prints a JSON summary; exit 0 pass, 1 fail, 77 when node packages or the
// programs are missing.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const bin = process.env.GQ_BIN_DIR || path.resolve("bin");
const tools = process.env.GQ_TOOLS_DIR || path.resolve(here, "../../tools");
const need = [path.join(tools, "node_modules/node-llama-cpp"), path.join(tools, "node_modules/@huggingface/gguf"),
  path.join(bin, "gptoss-fixture"), path.join(bin, "gptoss-convert"), path.join(bin, "gptoss-run"),
  path.join(bin, "gguf_ours_logits")];
for (const p of need)
  if (!fs.existsSync(p)) {
    console.error(`missing ${p}: skipping`);
    process.exit(77);
  }

// Largest |logit difference| accepted, relative to the spread (max - min) of
// our logits at that position. llama.cpp quantizes activations to Q8_0 before
// Q8_0 / Q4_0 / MXFP4 matrix products and rounds the YaRN correction
// dimensions to integers; our runtime does neither, so the logits are close
// but not equal. Measured figures are printed; the bound is loose enough for
// those differences and far below what a wrong tensor (a swapped gate/up, a
// transposed matrix, a wrong RoPE base) produces (the spread itself).
const TOL = Number(process.env.GQ_GGUF_LOGIT_TOL || 0.05);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gq-gguf-proof-"));
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"], ...opts });
const env = { ...process.env, GQ_TOOLS_DIR: tools };
const failures = [];
const summary = { recipes: {} };

try {
  const fix = path.join(tmp, "tiny");
  run(path.join(bin, "gptoss-fixture"), ["tiny", "-o", fix, "--no-sync"], { env });

  const texts = [
    { text: "Hello world! The quick brown fox jumps over the lazy dog.", special: false },
    { text: "  leading spaces,\ttabs\nnewlines\n\n  and   runs   of spaces  ", special: false },
    { text: "Numbers 1234567 3.14159 -42 1e10 and 'contractions' I'm you're we'll they'd", special: false },
    { text: "Unicode: café naïve Straße Ελληνικά русский 中文字符 日本語 한국어 🚀🦙 ✅", special: false },
    { text: "def f(x):\n    return x**2  # code\nif (a && b) { c[i] = d->e; }", special: false },
    { text: "<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>",
      special: true },
  ];
  const long = [
    "The history of computing is a story of abstraction layered on abstraction.",
    "Early machines were programmed by rewiring; later, stored programs let the same",
    "hardware compute anything that could be described precisely. Compilers turned",
    "human-readable text into machine code, operating systems shared one machine among",
    "many users, and networks joined machines into systems larger than any one of them.",
    "Today a language model is a few files of numbers: weights in blocks of 32 values,",
    "each block with its own scale, read by a program that multiplies them by vectors",
    "billions of times per second. Converting those files between formats must not",
    "change a single value that matters, or the model will quietly say something else.",
    "Sliding windows of 128 tokens alternate with full attention in gpt-oss, so a test",
    "must look past the 128th token to see both kinds of layers at work. 0123456789",
  ].join(" ");
  fs.writeFileSync(path.join(tmp, "texts.json"), JSON.stringify(texts));

  const recipes = [
    { name: "mxfp4-q8", args: ["--quant", "q8", "--experts", "mxfp4"] },
    { name: "q8", args: ["--quant", "q8"] },
    { name: "q4", args: ["--quant", "q4"] },
  ];
  for (const r of recipes) {
    const rs = (summary.recipes[r.name] = {});
    const gg = path.join(tmp, `${r.name}.gguf`), go = path.join(tmp, `${r.name}.gptoss`);
    run(path.join(bin, "gptoss-convert"), ["convert", fix, "-o", gg, ...r.args, "-q"], { env });
    run(path.join(bin, "gptoss-convert"), ["convert", fix, "-o", go, ...r.args, "-q"], { env });

    // 2. independent parser
    const insp = path.join(tmp, `${r.name}.inspect.json`);
    fs.writeFileSync(insp, run(path.join(bin, "gptoss-convert"), ["inspect", gg, "--json"]));
    try {
      rs.hf_gguf = JSON.parse(run("node", [path.join(here, "hf_gguf_check.mjs"), "--gguf", gg, "--inspect", insp,
        "--tokenizer", path.join(fix, "tokenizer.json")], { env }));
    } catch (e) {
      failures.push(`${r.name}: @huggingface/gguf check: ${e.stdout || ""}${e.stderr || e.message}`);
    }

    // 3. tokenization: llama.cpp vs ours
    const ours = texts.map((t) => JSON.parse(run(path.join(bin, "gptoss-run"),
      ["tokenize", go, "--text", t.text, "--json", ...(t.special ? [] : ["--no-special"])])));
    const lj = JSON.parse(run("node", [path.join(here, "llama_check.mjs"), "--gguf", gg, "--tokenize",
      path.join(tmp, "texts.json")], { env }));
    let tokOk = 0;
    texts.forEach((t, i) => {
      if (JSON.stringify(lj.ids[i]) === JSON.stringify(ours[i])) tokOk++;
      else failures.push(`${r.name}: text ${i} tokenizes differently:\n  llama.cpp ${JSON.stringify(lj.ids[i])}\n  ours      ${JSON.stringify(ours[i])}`);
    });
    rs.tokenize_identical = `${tokOk}/${texts.length}`;

    // 4. logits after > 128 tokens
    const ids = JSON.parse(run(path.join(bin, "gptoss-run"), ["tokenize", go, "--text", long, "--json", "--no-special"]));
    if (ids.length <= 160) failures.push(`${r.name}: long text is only ${ids.length} tokens`);
    const idsFile = path.join(tmp, "ids.json");
    fs.writeFileSync(idsFile, JSON.stringify(ids));
    const positions = [0, 63, 127, 128, 150, ids.length - 1];
    const lf = path.join(tmp, `${r.name}.llama.f32`), of = path.join(tmp, `${r.name}.ours.f32`);
    run("node", [path.join(here, "llama_check.mjs"), "--gguf", gg, "--logits", idsFile, "--positions",
      JSON.stringify(positions), "--out", lf], { env });
    run(path.join(bin, "gguf_ours_logits"), [go, idsFile, of, ...positions.map(String)]);
    const a = new Float32Array(fs.readFileSync(lf).buffer.slice(0)), b = new Float32Array(fs.readFileSync(of).buffer.slice(0));
    const nv = b.length / positions.length;
    if (a.length !== b.length) failures.push(`${r.name}: logits length ${a.length} vs ${b.length}`);
    let maxDiff = 0, maxRel = 0, top1 = 0;
    positions.forEach((p, k) => {
      let ia = 0, ib = 0, lo = Infinity, hi = -Infinity, d = 0;
      for (let i = 0; i < nv; i++) {
        const x = a[k * nv + i], y = b[k * nv + i];
        if (x > a[k * nv + ia]) ia = i;
        if (y > b[k * nv + ib]) ib = i;
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
        d = Math.max(d, Math.abs(x - y));
        if (!Number.isFinite(x)) d = Infinity;
      }
      if (ia === ib) top1++;
      else failures.push(`${r.name}: position ${p}: top-1 llama.cpp ${ia} vs ours ${ib}`);
      maxDiff = Math.max(maxDiff, d);
      maxRel = Math.max(maxRel, d / (hi - lo));
    });
    rs.tokens = ids.length;
    rs.positions = positions;
    rs.top1_identical = `${top1}/${positions.length}`;
    rs.max_abs_logit_diff = Number(maxDiff.toPrecision(4));
    rs.max_diff_over_spread = Number(maxRel.toPrecision(4));
    if (!(maxRel <= TOL)) failures.push(`${r.name}: logit difference ${maxDiff} is ${maxRel} of the spread (> ${TOL})`);
  }
} catch (e) {
  failures.push(`${e.message}\n${e.stderr || ""}`);
} finally {
  if (!process.env.GQ_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
}
summary.failures = failures;
console.log(JSON.stringify(summary, null, 1));
process.exit(failures.length ? 1 : 0);
