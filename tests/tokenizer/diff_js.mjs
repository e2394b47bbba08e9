// diff_js.mjs - differential test: our C tokenizer against the independent
// JS implementation (@lenml/tokenizers, a port of HF tokenizers) on a
// deterministic corpus of >= 1 MB of varied text (gen_corpus.mjs).
//
// usage: node diff_js.mjs HELPER TOKENIZER.json [BYTES] [SEED]
// HELPER is the tok_encode_docs binary. Every id must match; on a mismatch it
// prints the document, the first differing position and both id runs.
import fs from "fs";
import os from "os";
import path from "path";
import { execFileSync } from "child_process";
import { createRequire } from "module";

const [helper, tokPath, bytesArg, seedArg] = process.argv.slice(2);
const bytes = Number(bytesArg || 1100000);
const seed = Number(seedArg || 1);
const toolsDir = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../tools");
const require = createRequire(path.join(toolsDir, "package.json"));
let lenml;
try {
  lenml = await import(require.resolve("@lenml/tokenizers"));
} catch (e) {
  console.log("SKIP: @lenml/tokenizers not installed (run scripts/setup.sh)");
  process.exit(77);
}
const { generateCorpus } = await import("./gen_corpus.mjs");

const tokJSON = JSON.parse(fs.readFileSync(tokPath, "utf8"));
const cfgPath = path.join(path.dirname(tokPath), "tokenizer_config.json");
const tokConfig = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8"))
  : { tokenizer_class: "PreTrainedTokenizerFast" };
const js = lenml.TokenizerLoader.fromPreTrained({ tokenizerJSON: tokJSON, tokenizerConfig: tokConfig });

const docs = generateCorpus(seed, bytes);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tokdiff-"));
const docsPath = path.join(tmp, "docs.json"), outPath = path.join(tmp, "ids.json");
fs.writeFileSync(docsPath, JSON.stringify(docs));
const t0 = Date.now();
execFileSync(helper, [tokPath, docsPath, outPath], { stdio: "inherit" });
const tC = Date.now() - t0;
const ours = JSON.parse(fs.readFileSync(outPath, "utf8"));
fs.rmSync(tmp, { recursive: true });

let totalBytes = 0, totalIds = 0, bad = 0;
const t1 = Date.now();
for (let d = 0; d < docs.length; d++) {
  const ref = js.encode(docs[d]);
  totalBytes += Buffer.byteLength(docs[d], "utf8");
  totalIds += ref.length;
  const a = ours[d];
  let i = 0;
  while (i < a.length && i < ref.length && a[i] === ref[i]) i++;
  if (i === a.length && i === ref.length) continue;
  bad++;
  if (bad <= 5) {
    const show = (ids) => ids.slice(Math.max(0, i - 3), i + 6).map((x) => `${x}:${JSON.stringify(js.decode([x]))}`).join(" ");
    console.log(`MISMATCH doc ${d} at id #${i} (ours ${a.length} ids, js ${ref.length})`);
    console.log(`  ours: ${show(a)}`);
    console.log(`  js:   ${show(ref)}`);
  }
}
const tJ = Date.now() - t1;
console.log(`${docs.length} documents, ${totalBytes} bytes, ${totalIds} ids; ${bad} mismatching documents ` +
  `(C helper incl. load ${tC} ms, JS encode ${tJ} ms)`);
process.exit(bad ? 1 : 0);
