// bench_js.mjs - encode throughput of the JS tokenizer (@lenml/tokenizers)
// on the same documents as tok_bench (bench/tokenizer.mk); median of REPS.
// usage: node bench_js.mjs TOKENIZER.json DOCS.json [REPS]
import fs from "fs";
import path from "path";
import { createRequire } from "module";

const [tokPath, docsPath, repsArg] = process.argv.slice(2);
const reps = Number(repsArg || 3);
const toolsDir = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../tools");
const require = createRequire(path.join(toolsDir, "package.json"));
const lenml = await import(require.resolve("@lenml/tokenizers"));
const tokJSON = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const cfgPath = path.join(path.dirname(tokPath), "tokenizer_config.json");
const tokConfig = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
const t0 = performance.now();
const js = lenml.TokenizerLoader.fromPreTrained({ tokenizerJSON: tokJSON, tokenizerConfig: tokConfig });
const load = (performance.now() - t0) / 1000;
const docs = JSON.parse(fs.readFileSync(docsPath, "utf8"));
const bytes = docs.reduce((a, d) => a + Buffer.byteLength(d, "utf8"), 0);
const times = [], cpu = [];
let ids = 0;
for (let r = 0; r < reps; r++) {
  const s = performance.now(), c = process.cpuUsage();
  ids = 0;
  for (const d of docs) ids += js.encode(d).length;
  times.push((performance.now() - s) / 1000);
  const u = process.cpuUsage(c); // the whole process: includes V8's GC helper threads
  cpu.push((u.user + u.system) / 1e6);
}
times.sort((a, b) => a - b);
cpu.sort((a, b) => a - b);
const mid = Math.floor(reps / 2);
console.log(JSON.stringify({ bytes, documents: docs.length, ids, reps, load_s: +load.toFixed(3),
  encode_mb_s: +(bytes / 1e6 / times[mid]).toFixed(2), cpu_encode_mb_s: +(bytes / 1e6 / cpu[mid]).toFixed(2) }));
