// make_golden_texts.mjs - writes fixtures/golden/tokenizer/texts.json, the
// committed inputs that fixtures/golden/make_tokenizer_golden.py encodes with
// HF's Rust tokenizers: hand-picked edge cases (the places where regex
// engines and tokenizer implementations are known to disagree) followed by a
// 60 kB slice of the differential-test corpus.
// It also writes OUT.json's strings as OUT.bin (per text: u32 little-endian
// byte length, then the UTF-8 bytes) for the C test, which must see the NUL
// characters that a C JSON parser would cut strings at.
// usage: node make_golden_texts.mjs OUT.json
import fs from "fs";
import { generateCorpus } from "./gen_corpus.mjs";

const edge = [
  "", " ", "a", "Hello world!", "Hello, World! How're you? I'M fine; You'Ll see. THEY'RE here, we'Ve gone, it's",
  "don't DON'T Don'T don’t", "it'ſ IT'ſ", "'s 's's ''s 'S", "x's\n's\t's",
  // whitespace: engines disagree on U+0085, U+180E, U+FEFF, U+200B, U+001C..1F
  "a\u0085b", "x \u0085\u0085 y", "\u0085", "end\u0085", "a\u180eb", " \u180e x", "\ufeffHello", "a \ufeff b",
  "a\u200bb", "a\u001cb\u001dc\u001ed\u001ff", "tab\tsep\u000bvt\u000cff\rcr", "\u00a0\u00a0x", "a\u3000b\u2028c\u2029d",
  "   ", "     x", "x     ", "\n", "\n\n\n", "  \n  \n  x", "\r\n\r\n  \t\n", "a \n b", "a  \n\n  b", "\t\t\tx\t\t",
  " ".repeat(5000) + "x", "\n".repeat(1000), " \n".repeat(500) + "end", "\t".repeat(300) + "y" + " ".repeat(7),
  // digits
  "1", "12", "123", "1234", "1234567890123456789", "3.14159265358979", "1,000,000", "-42", "x1y22z333w4444",
  "0".repeat(1000), "١٢٣٤٥", "१२३४", "²³¹", "½¾", "Ⅻ ⅻ", "①②③", "𝟙𝟚𝟛", "１２３４５",
  // letters, cases, marks
  "ǅungla ǈubljana ǋ", "ʰello ˈstress", "ΣΊΣΥΦΟΣ σίσυφος", "Straße STRASSE ẞ", "İstanbul ıi", "ﬁnance ﬂow",
  "e\u0301 e\u0301\u0302 \u0301a .\u0301 1\u0301", "Z\u0351\u0358\u034c\u0350a\u0346\u0357l\u0343g\u0344o", "क्षत्रिय हिन्दी",
  "ภาษาไทย", "שָׁלוֹם", "مرحبا بالعالم ـــ", "Привет, мир!", "你好，世界。", "日本語のテキスト、カタカナ", "한국어 텍스트",
  "a".repeat(2000), "ab".repeat(1000), "Ω".repeat(500), "日".repeat(700),
  // emoji
  "👨‍👩‍👧‍👦", "🏳️‍🌈 🏴‍☠️", "👍🏽👍🏿", "🇺🇸🇯🇵🇩🇪", "1️⃣#️⃣", "❤️‍🔥", "x😀y", "😀😀😀😀😀",
  // specials
  "<|start|>user<|message|>Hi<|end|><|start|>assistant", "<|startoftext|>", "<|endoftext|>", "<|return|>",
  "<|constrain|>", "<|channel|>", "<|start|>", "<|end|>", "<|message|>", "<|call|>", "<|endofprompt|>",
  "<|reserved_200000|>", "<|reserved_200017|>", "<|start", "|>", "<|end|", "<<|end|>>", "<|end|<|end|>",
  "<|START|>", "  <|end|>  ", "a<|end|>b", "<|end|><|end|>", "x <|channel|>analysis<|message|>thinking...<|end|>",
  "<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{\"city\":\"SF\"}<|call|>",
  // code and misc
  "#include <stdio.h>\nint main(void) { return 0; }\n", "def f(x):\n    return x**2\n", "if (a && b || !c) { x->y = z; }",
  "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Windows\\System32", "$$\\frac{a}{b}$$",
  "...---...", "!!!???", "((()))", "a/b/c\n/d", "x=\n\r\ny", "tokens/\n\n", "--\r\n", "\u0000nul\u0000", "\u0001\u0002\u007f",
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(""),
  // Unicode >= 15 letters (PCRE2 10.42 knows Unicode 14): Kawi, Nag Mundari, CJK Ext H
  "\u{11f04}\u{11f05}", "\u{1e4d0}\u{1e4d1}", "\u{31350}\u{31351}",
];

const corpus = generateCorpus(7, 60000);
const all = edge.concat(corpus);
fs.writeFileSync(process.argv[2], JSON.stringify(all, null, 0) + "\n");
const parts = [];
for (const t of all) {
  const b = Buffer.from(t, "utf8"), n = Buffer.alloc(4);
  n.writeUInt32LE(b.length);
  parts.push(n, b);
}
fs.writeFileSync(process.argv[2].replace(/\.json$/, ".bin"), Buffer.concat(parts));
console.log(`${edge.length} edge cases + ${corpus.length} corpus documents`);
