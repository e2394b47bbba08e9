// harmony_ppl.mjs - `ppl --harmony` against an independent reference: gpt-oss's
// chat template (@huggingface/jinja) and the JS tokenizer (@lenml/tokenizers).
//
// 1. The conversation [user: PROMPT, assistant: TEXT] rendered by the template
//    (no generation prompt: the answer ends with <|return|>) and encoded by the
//    JS tokenizer must be exactly `gptoss-run tokenize --harmony` (the ids ppl
//    evaluates before chunking: conversation + text) followed by <|return|>.
// 2. Chunks built here from those JS ids (prefix + the next ctx - |prefix| text
//    ids, llama.cpp's chunking) and given to `ppl --ids` must give the same
//    PPL, scored count and chunk count as `ppl --file TEXT --harmony` on the
//    small fixture (real vocabulary): ppl wraps the text the way the template
//    does, and scores only text tokens.
// PROMPT and DATE are ppl_harmony.h's PPL_HARMONY_PROMPT / PPL_HARMONY_DATE
// (also reported by ppl --json, checked below).
// usage: node harmony_ppl.mjs GPTOSS_RUN TEMPLATE TOKENIZER TEXT [MODEL]
import fs from "fs";
import os from "os";
import path from "path";
import { execFileSync } from "child_process";
import { createRequire } from "module";

const [run, templatePath, tokPath, textPath, model] = process.argv.slice(2);
const PROMPT = "Write a passage of text.", DATE = "2025-08-05", CTX = 256;
const toolsDir = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../tools");
const require = createRequire(path.join(toolsDir, "package.json"));
let jinja, lenml;
try {
  jinja = await import(require.resolve("@huggingface/jinja"));
  lenml = await import(require.resolve("@lenml/tokenizers"));
} catch (e) {
  console.log("SKIP: @huggingface/jinja or @lenml/tokenizers not installed (run scripts/setup.sh)");
  process.exit(77);
}
if (!fs.existsSync(templatePath) || !fs.existsSync(tokPath)) {
  console.log("SKIP: no real chat template / tokenizer (run scripts/setup.sh)");
  process.exit(77);
}
let bad = 0;
const check = (ok, what, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok ? "" : " " + detail}`);
  if (!ok) bad++;
};
const text = fs.readFileSync(textPath, "utf8");
const template = fs.readFileSync(templatePath, "utf8").replace('strftime_now("%Y-%m-%d")', JSON.stringify(DATE));
const ref = new jinja.Template(template).render({
  messages: [{ role: "user", content: PROMPT }, { role: "assistant", content: text }], add_generation_prompt: false });
const js = lenml.TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(fs.readFileSync(tokPath, "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(path.dirname(tokPath), "tokenizer_config.json"), "utf8")) });
const want = js.encode(ref);
const textIds = js.encode(text);
const P = want.length - textIds.length - 1; // the conversation before the text; <|return|> after it
const RETURN = 200002;

const ours = JSON.parse(execFileSync(run, ["tokenize", tokPath, "--file", textPath, "--harmony", "--json"]));
check(want[want.length - 1] === RETURN, "the template ends the answer with <|return|>");
check(JSON.stringify(ours.concat([RETURN])) === JSON.stringify(want),
  `tokenize --harmony + <|return|> = the template's ids (${want.length} ids, prefix ${P})`,
  `ours ${ours.length}, first difference at #${want.findIndex((x, i) => x !== ours[i])}`);
check(JSON.stringify(want.slice(P, P + textIds.length)) === JSON.stringify(textIds),
  "the text's ids inside the conversation are the text's own ids");

if (model && fs.existsSync(model)) {
  const per = CTX - P, chunks = Math.floor(textIds.length / per);
  const wrapped = [];
  for (let c = 0; c < chunks; c++) wrapped.push(...want.slice(0, P), ...textIds.slice(c * per, (c + 1) * per));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hppl-"));
  const idsPath = path.join(tmp, "ids.json");
  fs.writeFileSync(idsPath, JSON.stringify(wrapped));
  const opts = { stdio: ["ignore", "pipe", "ignore"] };
  const a = JSON.parse(execFileSync(run, ["ppl", model, "--file", textPath, "--harmony", "--ctx", String(CTX),
    "--backend", "cpu", "-t", "1", "--json"], opts));
  const b = JSON.parse(execFileSync(run, ["ppl", model, "--ids", idsPath, "--ctx", String(CTX), "--backend", "cpu",
    "-t", "1", "--json"], opts));
  fs.rmSync(tmp, { recursive: true });
  console.log(`ppl --harmony ${a.ppl} (${a.scored} scored, ${a.chunks} chunks); template ids ${b.ppl} (${b.scored}, ${b.chunks})`);
  check(chunks >= 2 && a.chunks === chunks && b.chunks === chunks, `${chunks} chunks both ways`);
  check(a.ppl === b.ppl && a.scored === b.scored, "ppl --harmony = ppl on the template's ids (same PPL, same count)",
    `${a.ppl} vs ${b.ppl}`);
  check(a.harmony && a.harmony.prefix_tokens === P && a.harmony.prompt === PROMPT && a.harmony.date === DATE,
    "ppl --json reports the prefix length, prompt and date", JSON.stringify(a.harmony));
  check(a.tokens === textIds.length, "ppl --json tokens = the text's tokens", `${a.tokens} vs ${textIds.length}`);
  // llama.cpp's second half of each chunk: positions CTX/2 .. CTX-2, all inside the text
  check(a.scored === chunks * (CTX - 1 - CTX / 2) && P < CTX / 2, "only text tokens are scored (prefix < ctx/2)");
} else {
  console.log("no small fixture model: the ppl comparison is skipped");
}
console.log(`harmony_ppl: ${bad ? bad + " failed" : "all passed"}`);
process.exit(bad ? 1 : 0);
