// llama_check.mjs - run real llama.cpp (prebuilt, through node-llama-cpp) on
// a GGUF file: load it, tokenize texts, and dump next-token logits.
//
//   node llama_check.mjs --gguf X.gguf [--tokenize texts.json] [--logits ids.json --out logits.f32]
//
// texts.json: [{"text": "...", "special": false}, ...]; prints
//   {"n_vocab": N, "ids": [[...], ...]}
// ids.json: [id, ...]; evaluates them from an empty context and writes the
// raw logits after each position listed in --positions (default: the last)
// as little-endian f32, n_vocab per position, to --out.
// Exit 77 when node-llama-cpp is not installed (the test is skipped).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const tools = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../tools");
const entry = path.join(tools, "node_modules/node-llama-cpp/dist/index.js");
if (!fs.existsSync(entry)) {
  console.error(`node-llama-cpp not installed under ${tools} (scripts/setup.sh installs it): skipping`);
  process.exit(77);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
let model;
try {
  model = await llama.loadModel({ modelPath: args.gguf, useMmap: true });
} catch (e) {
  console.error(`llama.cpp refused ${args.gguf}: ${e.message}`);
  process.exit(1);
}
const result = { architecture: model.fileInfo?.metadata?.general?.architecture ?? null };

if (args.tokenize) {
  const texts = JSON.parse(fs.readFileSync(args.tokenize, "utf8"));
  result.ids = texts.map((t) => Array.from(model.tokenize(t.text, !!t.special)));
}

if (args.logits) {
  const ids = JSON.parse(fs.readFileSync(args.logits, "utf8"));
  const positions = args.positions ? JSON.parse(args.positions) : [ids.length - 1];
  const ctxSize = Math.max(256, 1 << Math.ceil(Math.log2(ids.length + 1)));
  const ctxOpts = { contextSize: ctxSize, batchSize: ctxSize, threads: 2, flashAttention: args["flash-attn"] === "on" };
  if (args.kv) ctxOpts.experimentalKvCacheKeyType = ctxOpts.experimentalKvCacheValueType = args.kv.toUpperCase();
  const context = await model.createContext(ctxOpts);
  const seq = context.getSequence();
  const want = new Set(positions);
  const input = ids.map((t, i) => (want.has(i) ? [t, { generateNext: { logits: true } }] : t));
  const out = await seq.controlledEvaluate(input);
  const first = out[positions[0]]?.next?.logits;
  if (!first) throw new Error(`no logits at position ${positions[0]}`);
  const nv = first.size;
  const buf = new Float32Array(positions.length * nv).fill(NaN);
  positions.forEach((p, k) => {
    const m = out[p]?.next?.logits;
    if (!m) throw new Error(`no logits at position ${p}`);
    for (const [tok, v] of m) buf[k * nv + tok] = v;
  });
  fs.writeFileSync(args.out, Buffer.from(buf.buffer));
  result.positions = positions;
  result.n_logits = nv;
  await context.dispose();
}
await model.dispose();
console.log(JSON.stringify(result));
