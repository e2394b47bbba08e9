// bench_corpus.mjs - writes BYTES of the differential-test corpus (seed 11)
// as a JSON array of documents, for the tokenizer benchmark.
// usage: node bench_corpus.mjs OUT.json BYTES
import fs from "fs";
import { generateCorpus } from "./gen_corpus.mjs";
fs.writeFileSync(process.argv[2], JSON.stringify(generateCorpus(11, Number(process.argv[3]))));
