// write_corpus.mjs - writes generateCorpus(SEED, BYTES) as a JSON array (the
// exact bytes whose SHA-256 fixtures/golden/tokenizer/hf_corpus.json records).
// usage: node write_corpus.mjs OUT.json [BYTES] [SEED]
import fs from "fs";
import { generateCorpus } from "./gen_corpus.mjs";
fs.writeFileSync(process.argv[2], JSON.stringify(generateCorpus(Number(process.argv[4] || 1), Number(process.argv[3] || 1100000))));
