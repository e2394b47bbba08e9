// gen_corpus.mjs - deterministic, varied test text for the tokenizer
// differential tests. `generateCorpus(seed, targetBytes)` returns an array
// of documents (strings) whose UTF-8 size adds up to at least targetBytes.
//
// Kinds of text (each document mixes a few): English prose with mixed-case
// contractions ("I'M", "You'Ll"), source code (C, Python, JS, with CRLF and
// tabs), CJK, Arabic with diacritics and Arabic-Indic digits, emoji with
// ZWJ / skin tones / flags / keycaps, combining marks (also after spaces and
// punctuation), digit runs, long whitespace runs mixing \n \r \t and Unicode
// spaces, other scripts (Greek, Cyrillic, Devanagari, Thai, Hebrew, title-case
// and modifier letters), and special-token strings, whole and broken.
//
// Deliberately absent: U+0085, U+FEFF, U+180E (JavaScript's \s disagrees with
// HF's Oniguruma on them; the HF golden set covers them instead) and
// characters assigned after Unicode 14 (PCRE2 10.42's tables stop there).

export function makeRng(seed) {
  let s = BigInt.asUintN(64, BigInt(seed) * 0x9E3779B97F4A7C15n + 1n);
  return {
    next() { // xorshift64*
      s ^= s >> 12n; s ^= BigInt.asUintN(64, s << 25n); s ^= s >> 27n;
      return Number(BigInt.asUintN(64, s * 0x2545F4914F6CDD1Dn) >> 11n) / 2 ** 53;
    },
    int(n) { return Math.floor(this.next() * n); },
    pick(a) { return a[this.int(a.length)]; },
  };
}

const WORDS = ("the of and to in is was that for it with as his on be at by had are but from or have an they which " +
  "one you were her all she there would their we him been has when who will more no if out so said what up its about " +
  "into than them can only other new some could time these two may then do first any my now such like our over man me " +
  "even most made after also did many before must through back years where much your way well down should because each " +
  "just those people how too little state good very make world still own see men work long get here between both life " +
  "being under never day same another know while last might us great old year off come since against go came right used " +
  "take three tokenizer quantization checkpoint perplexity transformer attention mixture experts throughput latency " +
  "supercalifragilisticexpialidocious antidisestablishmentarianism Pneumonoultramicroscopic naïve café résumé coöperate " +
  "façade jalapeño Zürich São Paulo Kraków Reykjavík").split(" ");
const CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE", "'VE", "'Ve", "'M",
  "'LL", "'Ll", "'lL", "'D", "'x", "'", "’s", "’ll"];
const PUNCT = [".", ",", "!", "?", ";", ":", "...", "—", "–", "-", "(", ")", "\"", "'", "«", "»", "“", "”", "…", "!?", "?!",
  "/", "\\", "%", "&", "*", "#", "@", "$", "€", "£", "¥", "©", "®", "™", "°", "±", "§", "¶", "•", "→", "⇒", "∀", "∑"];
const SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\t\t", " \t\n", "\u00a0", "\u3000", "\u2009",
  "\u2028", "\u2029", "\u200b", "\v", "\f", "\r"];

function cap(rng, w) {
  const r = rng.int(10);
  if (r === 0) return w.toUpperCase();
  if (r < 3) return w[0].toUpperCase() + w.slice(1);
  if (r === 3) return [...w].map((c) => (rng.int(2) ? c.toUpperCase() : c)).join("");
  return w;
}

function prose(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    let w = cap(rng, rng.pick(WORDS));
    if (rng.int(12) === 0) w += rng.pick(CONTRACTIONS);
    if (rng.int(25) === 0) w = rng.pick(["I'M", "You'Ll", "WE'RE", "They'Ve", "It'S", "DON'T", "I'd", "she'LL"]);
    out += w;
    if (rng.int(8) === 0) out += rng.pick(PUNCT);
    out += rng.int(30) === 0 ? rng.pick(SPACES) : " ";
    if (rng.int(60) === 0) out += "\n\n";
  }
  return out;
}

const CODE = [
  "#include <stdio.h>\n\nint main(int argc, char **argv)\n{\n    for (int i = 0; i < argc; i++) {\n        printf(\"%d: %s\\n\", i, argv[i]);\n    }\n    return 0;\n}\n",
  "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == '__main__':\n    print([fib(i) for i in range(20)])\n",
  "const x = await fetch(`https://example.com/api/v1/items?id=${id}&limit=100`);\r\nif (x.status !== 200) {\r\n\tthrow new Error('bad: ' + x.status);\r\n}\r\n",
  "SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total >= 99.95 GROUP BY u.id HAVING n > 3;\n",
  "<div class=\"row\"><span id='a1'>&nbsp;&lt;tag&gt;</span></div>\n<!-- comment -->\n",
  "fn main() -> Result<(), Box<dyn Error>> {\n    let v: Vec<u64> = (0..1_000_000).filter(|x| x % 3 == 0).collect();\n    println!(\"{:?}\", &v[..10]);\n    Ok(())\n}\n",
  "    \t  x += 0x7fffffff; y <<= 3; z = a->b->c ?: d; /* weird ** comment */ // end\n",
  "{\"key\": [1, 2.5e-10, -3, null, true], \"nested\": {\"a\\\"b\": \"\\u00e9\"}}\n",
  "$ ls -la /usr/local/bin | grep -E '^-rwx' | awk '{print $9}' > out.txt 2>&1 &&& echo done\n",
];

function code(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    let c = rng.pick(CODE);
    if (rng.int(3) === 0) c = c.replace(/    /g, "\t");
    if (rng.int(4) === 0) c = c.replace(/\n/g, "\r\n");
    out += c + rng.pick(["", "\n", "\n\n\n", "   \n"]);
  }
  return out;
}

function range(rng, lo, hi) { return String.fromCodePoint(lo + rng.int(hi - lo + 1)); }

function cjk(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    if (r < 4) out += range(rng, 0x4e00, 0x9fa5);
    else if (r < 6) out += range(rng, 0x3041, 0x3096);
    else if (r < 7) out += range(rng, 0x30a1, 0x30fa);
    else if (r < 8) out += range(rng, 0xac00, 0xd7a3);
    else if (r < 9) out += rng.pick(["。", "、", "「", "」", "！", "？", "（", "）", "ー", "々", "〜", "・"]);
    else out += rng.pick([" ", "\n", "１２３", "ＡＢＣ", "abc", "2024年", "第3章", "ｶﾀｶﾅ"]);
  }
  return out;
}

function arabic(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    let w = "";
    const len = 2 + rng.int(7);
    for (let k = 0; k < len; k++) {
      w += range(rng, 0x0621, 0x064a);
      if (rng.int(3) === 0) w += range(rng, 0x064b, 0x0652);
    }
    out += w;
    const r = rng.int(12);
    if (r === 0) out += " " + range(rng, 0x0660, 0x0669) + range(rng, 0x0660, 0x0669) + range(rng, 0x0660, 0x0669) + range(rng, 0x0660, 0x0669);
    else if (r === 1) out += "، ";
    else if (r === 2) out += "؟\n";
    else if (r === 3) out += " (" + rng.int(100000) + ") ";
    else if (r === 4) out += " שלום עולם ";
    else out += " ";
  }
  return out;
}

const EMOJI = ["😀", "😂", "🥲", "👍", "👍🏽", "👍🏿", "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏾‍🚀", "🏳️‍🌈", "🏴‍☠️", "❤️", "❤️‍🔥", "🇺🇸", "🇯🇵",
  "🇩🇪🇫🇷", "1️⃣", "#️⃣", "©️", "☕", "🤷‍♀️", "🙋🏻‍♂️", "🫠", "🐈‍⬛", "👁️‍🗨️", "✌🏼", "🎉🎉🎉", "⭐", "™️", "🔥"];

function emoji(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    out += rng.pick(EMOJI);
    const r = rng.int(6);
    if (r === 0) out += " ";
    else if (r === 1) out += cap(rng, rng.pick(WORDS)) + " ";
    else if (r === 2) out += "\u200d";
    else if (r === 3) out += "\ufe0f";
  }
  return out;
}

const MARKS = [0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x030a, 0x0323, 0x0327, 0x0331, 0x0361, 0x20dd, 0x0489, 0x093f, 0x0e31];

function combining(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(6);
    if (r === 0) out += " ";
    else if (r === 1) out += rng.pick(PUNCT);
    else if (r === 2) out += rng.pick(["A", "z", "Ω", "й", "क", "ก"]);
    else if (r === 3) out += rng.pick(["1", "٣", "\n"]);
    else out += rng.pick(WORDS);
    const k = rng.int(5);
    for (let j = 0; j < k; j++) out += String.fromCodePoint(rng.pick(MARKS));
  }
  return out;
}

function digits(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    const len = 1 + rng.int(rng.int(4) === 0 ? 40 : 8);
    let d = "";
    for (let k = 0; k < len; k++) d += String(rng.int(10));
    const r = rng.int(10);
    if (r === 0) d = d + "." + rng.int(1000);
    else if (r === 1) d = "-" + d;
    else if (r === 2) d = "abc" + d + "def";
    else if (r === 3) d = d.replace(/(\d{3})/g, "$1,");
    else if (r === 4) d += rng.pick(["²", "³", "½", "Ⅻ", "ⅷ", "①", "१२३", "๑๒", "𝟙𝟚"]);
    else if (r === 5) d = "0x" + d + "ULL";
    out += d + rng.pick([" ", " ", "\n", "", "%", "km", " 000 "]);
  }
  return out;
}

function whitespace(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(8);
    if (r === 0) out += " ".repeat(1 + rng.int(rng.int(5) === 0 ? 3000 : 40));
    else if (r === 1) out += "\n".repeat(1 + rng.int(20));
    else if (r === 2) out += "\t".repeat(1 + rng.int(10));
    else if (r === 3) { for (let k = rng.int(30); k > 0; k--) out += rng.pick(SPACES); }
    else if (r === 4) out += rng.pick(["x", "Foo", "1", ".", "€", "日本"]);
    else if (r === 5) out += " \r\n \r\n\t ";
    else out += cap(rng, rng.pick(WORDS));
  }
  return out;
}

const SPECIAL = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>",
  "<|endoftext|>", "<|startoftext|>", "<|endofprompt|>", "<|reserved_200001|>", "<|reserved_200017|>"];

function specials(rng, n) {
  let out = "";
  for (let i = 0; i < n; i++) {
    const r = rng.int(8);
    if (r < 3) out += rng.pick(SPECIAL);
    else if (r === 3) out += rng.pick(["<|start", "|>", "<|", "<|end|", "<<|end|>>", "<|end|<|end|>", "<|START|>",
      "< |end| >", "<|reserved_999999|>", "<|im_start|>"]);
    else if (r === 4) out += rng.pick(["user", "assistant", "system", "developer", "analysis", "final", "commentary"]);
    else if (r === 5) out += " to=functions.get_weather";
    else out += prose(rng, 1 + rng.int(6));
  }
  return out;
}

function scripts(rng, n) {
  let out = "";
  const R = [[0x0391, 0x03a9], [0x03b1, 0x03c9], [0x0410, 0x044f], [0x0905, 0x0939], [0x0e01, 0x0e2e], [0x05d0, 0x05ea],
    [0x10d0, 0x10f0], [0x0531, 0x0556], [0x1e00, 0x1eff]];
  for (let i = 0; i < n; i++) {
    const [lo, hi] = rng.pick(R);
    const len = 1 + rng.int(9);
    for (let k = 0; k < len; k++) out += range(rng, lo, hi);
    const r = rng.int(8);
    if (r === 0) out += rng.pick(["ǅ", "ǈ", "ǋ", "ᾈ", "ʰ", "ˈ", "ꜝ", "ǲ"]);
    else if (r === 1) out += rng.pick(PUNCT);
    out += rng.pick([" ", " ", " ", "\n", "-", "'s ", "'LL "]);
  }
  return out;
}

const KINDS = [prose, prose, prose, code, code, cjk, arabic, emoji, combining, digits, whitespace, specials, scripts];

export function generateCorpus(seed, targetBytes) {
  const rng = makeRng(seed);
  const docs = [];
  let total = 0;
  while (total < targetBytes) {
    let doc = "";
    const parts = 1 + rng.int(4);
    for (let p = 0; p < parts; p++) doc += rng.pick(KINDS)(rng, 20 + rng.int(400));
    docs.push(doc);
    total += Buffer.byteLength(doc, "utf8");
  }
  return docs;
}
