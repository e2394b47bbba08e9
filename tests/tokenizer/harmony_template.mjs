// harmony_template.mjs - our harmony rendering (runtime/text/harmony_render.c,
// tools included) against gpt-oss's own chat template (put beside the real
// tokenizer.json by scripts/setup.sh) rendered by @huggingface/jinja: the
// same text byte for byte, and with a tokenizer the same ids as the JS
// tokenizer (@lenml/tokenizers) gives for the template's text. A case with
// "error" must be refused by both (the template raises). The template reads
// the clock through strftime_now("%Y-%m-%d"); that call is replaced by each
// case's fixed date.
// usage: node harmony_template.mjs HELPER CASES.json TEMPLATE [TOKENIZER]
import fs from "fs";
import os from "os";
import path from "path";
import { execFileSync } from "child_process";
import { createRequire } from "module";

const [helper, casesPath, templatePath, tokPath] = process.argv.slice(2);
const toolsDir = process.env.GQ_TOOLS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../tools");
const require = createRequire(path.join(toolsDir, "package.json"));
let jinja;
try {
  jinja = await import(require.resolve("@huggingface/jinja"));
} catch (e) {
  console.log("SKIP: @huggingface/jinja not installed (run scripts/setup.sh)");
  process.exit(77);
}
const cases = JSON.parse(fs.readFileSync(casesPath, "utf8"));
const template = fs.readFileSync(templatePath, "utf8");
const clock = 'strftime_now("%Y-%m-%d")';
if (template.split(clock).length !== 2) {
  console.log(`FAIL: the template should read the date exactly once through ${clock}`);
  process.exit(1);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "harmony-"));
const outPath = path.join(tmp, "ours.json");
execFileSync(helper, [casesPath, outPath].concat(tokPath && fs.existsSync(tokPath) ? [tokPath] : []), { stdio: "inherit" });
const ours = JSON.parse(fs.readFileSync(outPath, "utf8"));
fs.rmSync(tmp, { recursive: true });
let js = null;
if (tokPath && fs.existsSync(tokPath)) {
  const lenml = await import(require.resolve("@lenml/tokenizers"));
  const cfgPath = path.join(path.dirname(tokPath), "tokenizer_config.json");
  js = lenml.TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(fs.readFileSync(tokPath, "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(cfgPath, "utf8")) });
}

let bad = 0, nids = 0;
cases.forEach((c, i) => {
  const date = c.opt.current_date;
  const t = new jinja.Template(template.replace(clock, JSON.stringify(date)));
  const vars = { messages: c.messages, add_generation_prompt: !!c.gen };
  if (c.tools) vars.tools = c.tools;
  if (c.opt.reasoning) vars.reasoning_effort = c.opt.reasoning;
  if (c.opt.model_identity) vars.model_identity = c.opt.model_identity;
  let ref;
  try {
    ref = t.render(vars);
  } catch (e) {
    ref = { error: String(e.message || e) };
  }
  if (c.error) {
    if (typeof ref === "string" || ours[i].text !== undefined) {
      bad++;
      console.log(`case ${i}: should be refused (${c.error}); template: ${JSON.stringify(ref).slice(0, 120)}, ours: ${JSON.stringify(ours[i]).slice(0, 120)}`);
    }
    return;
  }
  if (typeof ref !== "string") {
    bad++;
    console.log(`case ${i}: the template failed: ${ref.error}`);
    return;
  }
  const mine = ours[i].text;
  if (ref !== mine) {
    bad++;
    let k = 0;
    while (k < ref.length && ref[k] === mine[k]) k++;
    console.log(`MISMATCH case ${i} at char ${k}:\n  template: ${JSON.stringify(ref.slice(Math.max(0, k - 40), k + 60))}` +
      `\n  ours:     ${JSON.stringify((mine || "").slice(Math.max(0, k - 40), k + 60))}`);
    return;
  }
  if (js) {
    const want = js.encode(ref), got = ours[i].ids;
    nids += want.length;
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      bad++;
      let k = 0;
      while (k < want.length && want[k] === got[k]) k++;
      console.log(`IDS case ${i} differ at #${k}: JS ${JSON.stringify(want.slice(k, k + 8))}, ours ${JSON.stringify(got.slice(k, k + 8))}`);
    }
  }
});
console.log(`${cases.length} conversations (${nids} ids checked against the JS tokenizer), ${bad} differ from the chat template`);
process.exit(bad ? 1 : 0);
