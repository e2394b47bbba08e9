// hf_gguf_check.mjs - read one of our GGUF files with an independent parser
// (@huggingface/gguf) and check every metadata key and every tensor header:
//   * the parser accepts the file;
//   * the KV keys are exactly those our reader lists (inspect --json), with
//     the same values (scalars exactly; arrays: length and first elements);
//   * tokenizer.ggml.tokens / token_type / merges equal what tokenizer.json
//     says (computed here in JS from tokenizer.json, not from our code);
//   * every tensor: name, ne, ggml type, offset equal ours, data offset equal;
//   * every tensor llama.cpp's gpt-oss loader asks for is there.
//
//   node hf_gguf_check.mjs --gguf X.gguf --inspect inspect.json --tokenizer tokenizer.json
// Prints one JSON line with counts; exit 1 on any mismatch, 77 without the package.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const tools = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../tools");
const entry = path.join(tools, "node_modules/@huggingface/gguf/dist/index.mjs");
if (!fs.existsSync(entry)) {
  console.error(`@huggingface/gguf not installed under ${tools}: skipping`);
  process.exit(77);
}
const { gguf } = await import(pathToFileURL(entry).href);

const failures = [];
const fail = (m) => {
  if (failures.length < 30) failures.push(m);
  else if (failures.length === 30) failures.push("...");
};

const parsed = await gguf(path.resolve(args.gguf), { allowLocalFile: true });
const ours = JSON.parse(fs.readFileSync(args.inspect, "utf8"));
const md = parsed.metadata;

// header fields the library reports next to the KVs
if (Number(md.version) !== 3) fail(`version ${md.version}`);
if (Number(md.tensor_count) !== ours.tensors.length) fail(`tensor_count ${md.tensor_count} vs ${ours.tensors.length}`);
if (Number(md.kv_count) !== ours.kv.length) fail(`kv_count ${md.kv_count} vs ${ours.kv.length}`);
const theirKeys = Object.keys(md).filter((k) => !["version", "tensor_count", "kv_count"].includes(k));
const ourKeys = ours.kv.map((k) => k.key);
if (JSON.stringify([...theirKeys].sort()) !== JSON.stringify([...ourKeys].sort()))
  fail(`KV keys differ: theirs ${theirKeys.length}, ours ${ourKeys.length}`);

const eqScalar = (a, b, type) => {
  if (type === "f32") return Math.fround(Number(a)) === Math.fround(Number(b));
  if (typeof a === "bigint") a = Number(a);
  return a === b;
};
for (const kv of ours.kv) {
  const v = md[kv.key];
  if (v === undefined) {
    fail(`${kv.key}: missing in @huggingface/gguf's view`);
    continue;
  }
  if (kv.type === "arr") {
    if (!Array.isArray(v) || v.length !== kv.n) fail(`${kv.key}: length ${v?.length} vs ${kv.n}`);
    else kv.head.forEach((h, i) => !eqScalar(v[i], h, kv.elem) && fail(`${kv.key}[${i}]: ${v[i]} vs ${h}`));
  } else if (!eqScalar(v, kv.value, kv.type)) {
    fail(`${kv.key}: ${v} vs ${kv.value}`);
  }
}

// the tokenizer arrays against tokenizer.json itself
const tj = JSON.parse(fs.readFileSync(args.tokenizer, "utf8"));
const n = Number(md["tokenizer.ggml.tokens"]?.length ?? 0);
const tokens = new Array(n).fill(null), types = new Array(n).fill(5);
for (const [text, id] of Object.entries(tj.model.vocab)) {
  tokens[id] = text;
  types[id] = 1;
}
for (const a of tj.added_tokens ?? []) {
  tokens[a.id] = a.content;
  types[a.id] = a.special ? 3 : 4;
}
for (let i = 0; i < n; i++) if (tokens[i] === null) tokens[i] = `[PAD${i}]`;
const gt = md["tokenizer.ggml.tokens"], gty = md["tokenizer.ggml.token_type"], gm = md["tokenizer.ggml.merges"];
let badTok = 0, badType = 0, badMerge = 0;
for (let i = 0; i < n; i++) {
  if (gt[i] !== tokens[i]) badTok++;
  if (Number(gty[i]) !== types[i]) badType++;
}
const merges = tj.model.merges.map((m) => (Array.isArray(m) ? `${m[0]} ${m[1]}` : m));
if (!gm || gm.length !== merges.length) fail(`merges: ${gm?.length} vs ${merges.length}`);
else for (let i = 0; i < merges.length; i++) if (gm[i] !== merges[i]) badMerge++;
if (badTok) fail(`${badTok} tokens differ from tokenizer.json`);
if (badType) fail(`${badType} token types differ from tokenizer.json`);
if (badMerge) fail(`${badMerge} merges differ from tokenizer.json`);

// tensor headers
if (BigInt(ours.data_offset) !== BigInt(parsed.tensorDataOffset)) fail(`data offset ${parsed.tensorDataOffset} vs ${ours.data_offset}`);
const theirs = new Map(parsed.tensorInfos.map((t) => [t.name, t]));
for (const t of ours.tensors) {
  const h = theirs.get(t.name);
  if (!h) {
    fail(`tensor ${t.name} missing`);
    continue;
  }
  const ne = h.shape.map(Number);
  if (JSON.stringify(ne) !== JSON.stringify(t.ne)) fail(`${t.name}: ne ${ne} vs ${t.ne}`);
  if (Number(h.dtype) !== t.ggml_type) fail(`${t.name}: type ${h.dtype} vs ${t.ggml_type}`);
  if (BigInt(h.offset) !== BigInt(t.offset)) fail(`${t.name}: offset ${h.offset} vs ${t.offset}`);
}

// what llama.cpp's gpt-oss loader requires (src/models/openai-moe.cpp)
const L = Number(md["gpt-oss.block_count"]);
const need = ["token_embd.weight", "output_norm.weight", "output.weight"];
const per = ["attn_norm.weight", "post_attention_norm.weight", "attn_q.weight", "attn_q.bias", "attn_k.weight",
  "attn_k.bias", "attn_v.weight", "attn_v.bias", "attn_output.weight", "attn_output.bias", "attn_sinks.weight",
  "ffn_gate_inp.weight", "ffn_gate_inp.bias", "ffn_gate_exps.weight", "ffn_gate_exps.bias", "ffn_up_exps.weight",
  "ffn_up_exps.bias", "ffn_down_exps.weight", "ffn_down_exps.bias"];
for (let l = 0; l < L; l++) for (const p of per) need.push(`blk.${l}.${p}`);
for (const name of need) if (!theirs.has(name)) fail(`llama.cpp needs ${name}`);
if (theirs.size !== need.length) fail(`${theirs.size} tensors, llama.cpp's gpt-oss uses ${need.length}`);
for (const k of ["general.architecture", "gpt-oss.context_length", "gpt-oss.embedding_length",
  "gpt-oss.expert_feed_forward_length", "gpt-oss.attention.head_count", "gpt-oss.attention.head_count_kv",
  "gpt-oss.attention.sliding_window", "gpt-oss.attention.layer_norm_rms_epsilon", "gpt-oss.expert_count",
  "gpt-oss.expert_used_count", "gpt-oss.rope.freq_base", "tokenizer.ggml.model", "tokenizer.ggml.pre",
  "general.file_type"])
  if (md[k] === undefined) fail(`missing key ${k}`);

console.log(JSON.stringify({ file: args.gguf, kv: ourKeys.length, tensors: ours.tensors.length, tokens: n,
  merges: merges.length, failures }));
process.exit(failures.length ? 1 : 0);
