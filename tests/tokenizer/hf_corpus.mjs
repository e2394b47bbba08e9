// hf_corpus.mjs - our ids on the 1.1 MB differential-test corpus (seed 1)
// against HF tokenizers 0.23.2, through the per-document SHA-256 of the ids
// recorded in fixtures/golden/tokenizer/hf_corpus.json (made by
// fixtures/golden/make_tokenizer_golden.py --corpus on the device machine).
// Both with special tokens parsed and as plain text.
// usage: node hf_corpus.mjs HELPER NAME TOKENIZER GOLDEN.json
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { execFileSync } from "child_process";
import { generateCorpus } from "./gen_corpus.mjs";

const [helper, name, tokPath, goldenPath] = process.argv.slice(2);
if (!fs.existsSync(tokPath)) {
  console.log(`SKIP: ${tokPath} not found (run scripts/setup.sh)`);
  process.exit(77);
}
const golden = JSON.parse(fs.readFileSync(goldenPath, "utf8"));
const set = golden.tokenizers[name];
const text = JSON.stringify(generateCorpus(1, 1100000));
const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");
if (sha(Buffer.from(text, "utf8")) !== golden.corpus_sha256) {
  console.log("FAIL: gen_corpus.mjs no longer produces the corpus the golden was made from " +
    "(regenerate fixtures/golden/tokenizer/hf_corpus.json with make_tokenizer_golden.py --corpus)");
  process.exit(1);
}
if (sha(fs.readFileSync(tokPath)) !== set.sha256) console.log(`note: ${tokPath} differs from the golden's tokenizer`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tokhf-"));
fs.writeFileSync(path.join(tmp, "docs.json"), text);
let bad = 0, n = 0;
for (const [key, flags] of [["ids", []], ["ids_no_special", ["--no-special"]]]) {
  const out = path.join(tmp, key + ".json");
  execFileSync(helper, [tokPath, path.join(tmp, "docs.json"), out].concat(flags), { stdio: "inherit" });
  const ours = JSON.parse(fs.readFileSync(out, "utf8"));
  ours.forEach((ids, d) => {
    const h = sha(Buffer.from(new Int32Array(ids).buffer));
    n += ids.length;
    if (h !== set[key + "_sha256"][d]) {
      if (++bad <= 5) console.log(`MISMATCH ${key} doc ${d}: ${ids.length} ids, HF ${set[key + "_count"][d]}`);
    }
  });
}
fs.rmSync(tmp, { recursive: true });
console.log(`${name}: ${golden.documents} documents (${golden.bytes} bytes) x 2 modes, ${n} ids; ${bad} differ from HF`);
process.exit(bad ? 1 : 0);
