// harmony_template.mjs - our harmony rendering (runtime/text/harmony.c) against
// gpt-oss's own chat template (put beside the real tokenizer.json by scripts/setup.sh)
// rendered by @huggingface/jinja. The template reads the clock through
// strftime_now("%Y-%m-%d"); that call is replaced by each case's fixed date.
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

let bad = 0;
cases.forEach((c, i) => {
  const date = c.opt.current_date;
  const t = new jinja.Template(template.replace(clock, JSON.stringify(date)));
  const vars = { messages: c.messages, add_generation_prompt: !!c.gen };
  if (c.opt.reasoning) vars.reasoning_effort = c.opt.reasoning;
  if (c.opt.model_identity) vars.model_identity = c.opt.model_identity;
  const ref = t.render(vars);
  if (ref !== ours[i]) {
    bad++;
    let k = 0;
    while (k < ref.length && ref[k] === ours[i][k]) k++;
    console.log(`MISMATCH case ${i} at char ${k}:\n  template: ${JSON.stringify(ref.slice(Math.max(0, k - 40), k + 60))}` +
      `\n  ours:     ${JSON.stringify(ours[i].slice(Math.max(0, k - 40), k + 60))}`);
  }
});
console.log(`${cases.length} conversations, ${bad} differ from the chat template`);
process.exit(bad ? 1 : 0);
