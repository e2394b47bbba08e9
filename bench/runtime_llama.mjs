// runtime_llama.mjs - llama.cpp's prefill and decode speed on a GGUF file, the
// peer of `gptoss-run bench` (bench/runtime_bench.sh): the same prompt ids
// (same generator), the same lengths, runs and thread count; medians.
//   node runtime_llama.mjs --gguf X.gguf --vocab 201088 --p 64 --n 16 --r 3 --threads 2
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const tools = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../tools");
const entry = path.join(tools, "node_modules/node-llama-cpp/dist/index.js");
if (!fs.existsSync(entry)) {
  console.error(`node-llama-cpp not installed under ${tools}`);
  process.exit(77);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const P = Number(args.p || 64), N = Number(args.n || 16), R = Number(args.r || 3), T = Number(args.threads || 2);

const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: args.gguf, useMmap: true });
// the prompt of `gptoss-run bench`: x = x * 1103515245 + 12345 (mod 2^32), id = (x >> 8) % vocab
const nVocab = Number(args.vocab || 201088);
const prompt = [];
let x = 12345;
for (let i = 0; i < P; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  prompt.push((x >>> 8) % nVocab);
}
const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pp = [], tg = [], cpp = [], ctg = [];
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }; // all threads of this process
for (let r = 0; r < R; r++) {
  const ctx = await model.createContext({ contextSize: Math.max(256, P + N + 8), batchSize: Math.max(P, 32), threads: T });
  const seq = ctx.getSequence();
  // evaluate() streams: the first token arrives after the prompt is
  // evaluated, each later one after one decode step
  const c0 = cpu(), t0 = now();
  let t1 = 0, c1 = 0, got = 0;
  for await (const tok of seq.evaluate(prompt, { temperature: 0 })) {
    void tok;
    if (got++ === 0) { t1 = now(); c1 = cpu(); }
    if (got > N) break;
  }
  const t2 = now(), c2 = cpu();
  cpp.push((c1 - c0) / P);
  ctg.push((c2 - c1) / N);
  pp.push(P / (t1 - t0));
  tg.push(N / (t2 - t1));
  await ctx.dispose();
}
await model.dispose();
console.log(JSON.stringify({ engine: "llama.cpp (node-llama-cpp prebuilt CPU)", threads: T, prompt: P, gen: N, runs: R,
  prefill_tok_s: median(pp), decode_tok_s: median(tg), prefill_cpu_s_per_tok: median(cpp),
  decode_cpu_s_per_tok: median(ctg), prefill_runs: pp, decode_runs: tg }));
