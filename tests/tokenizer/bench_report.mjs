// bench_report.mjs - combines tok_bench's and bench_js.mjs's JSON (same
// documents, same run) into OUT/tokenizer.json and a short summary.
// usage: node bench_report.mjs OURS.json JS.json OUT.json
import fs from "fs";
import os from "os";

const [oursPath, jsPath, outPath] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(oursPath, "utf8"));
const j = JSON.parse(fs.readFileSync(jsPath, "utf8"));
if (c.ids !== j.ids) {
  console.error(`id counts differ: ours ${c.ids}, JS ${j.ids}`);
  process.exit(1);
}
const r = {
  machine: `${os.cpus()[0].model}, ${os.cpus().length} cpus, load average ${os.loadavg()[0].toFixed(1)}`,
  ours: c, js: j,
  speedup_cold: +(c.encode_cold_mb_s / j.encode_mb_s).toFixed(1),
  speedup_warm: +(c.encode_warm_mb_s / j.encode_mb_s).toFixed(1),
  cpu_speedup_cold: +(c.cpu_encode_cold_mb_s / j.cpu_encode_mb_s).toFixed(1),
  share_of_floor: +(c.cpu_encode_cold_mb_s / c.cpu_pretokenize_floor_mb_s).toFixed(2),
};
fs.writeFileSync(outPath, JSON.stringify(r, null, 1) + "\n");
console.log(`tokenizer: ${c.bytes} bytes, ${c.documents} documents, ${c.ids} ids (same count as JS); ${r.machine}`);
console.log(`  ours: ${c.encode_cold_mb_s} MB/s cold cache, ${c.encode_warm_mb_s} MB/s warm (wall, median of ${c.reps}); load ${c.load_s} s`);
console.log(`        ${c.cpu_encode_cold_mb_s} / ${c.cpu_encode_warm_mb_s} MB per CPU second`);
console.log(`  floor (Split regex alone, PCRE2 JIT): ${c.pretokenize_floor_mb_s} MB/s wall, ${c.cpu_pretokenize_floor_mb_s} MB per CPU second`);
console.log(`  JS @lenml/tokenizers: ${j.encode_mb_s} MB/s wall, ${j.cpu_encode_mb_s} MB per CPU second (median of ${j.reps}); load ${j.load_s} s`);
console.log(`  speedup vs JS: ${r.speedup_cold}x cold, ${r.speedup_warm}x warm (wall); ${r.cpu_speedup_cold}x cold per CPU second`);
