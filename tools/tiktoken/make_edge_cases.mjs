// Writes tests/fixtures/tokenizer/edge_cases.txt: the texts on which a GPT-2 tokenizer most often
// disagrees with tiktoken (whitespace runs, Unicode classes, contractions, specials, long words).
//
// Many cases are invisible characters, so the file is generated from the escapes below rather
// than typed: this script is the readable form of the file. The format, read by make_fixtures.mjs:
//
//   file   = case ("\n" case)*
//   case   = "␞ " label "\n" body           (␞ is U+241E; no body contains "\n␞ ")
//
// Usage (from the repository root): node tools/tiktoken/make_edge_cases.mjs
// then regenerate the ids: node tools/tiktoken/make_fixtures.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const EDGE_CASES_FILE = join(repo, "tests", "fixtures", "tokenizer", "edge_cases.txt");

// A deterministic pseudo-random lowercase word (LCG), so that the long-word case has many merges.
function random_word(n, seed) {
  let s = seed >>> 0, out = "";
  for (let i = 0; i < n; ++i) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out += String.fromCharCode(97 + (s >>> 24) % 26);
  }
  return out;
}

export const CASES = [
  ["plain sentence", "Hello world! This is a test of the tokenizer."],
  ["empty text", ""],
  ["a single space", " "],
  ["a single newline", "\n"],
  ["runs of spaces between words", "a  b   c    d     e      end"],
  ["leading spaces", "   leading spaces"],
  ["trailing spaces", "trailing spaces   "],
  ["only spaces", "          "],
  ["tabs", "\tindented\t\ttwice\t \t mixed \t\n\t\nend\t"],
  ["newlines and CRLF", "line1\nline2\n\nline4\n\n\n\nline8\r\nwindows\r\n\r\nmac\rold\n"],
  ["spaces around newlines", "word   \n   word\n \n  \n\n  indented\n"],
  ["only newlines", "\n\n\n"],
  ["no-break and Unicode spaces",
   "a\u00A0b\u00A0\u00A0c d\u2003e\u2003\u2003f\u2009g\u202Fh\u205Fi\u3000j\u1680k \u00A0 x\u2002y\u200Az"],
  ["space before no-break space", "word \u00A0word  \u2003 word"],
  ["zero-width and format characters", "zero\u200Bwidth\u200C\u200Djoin\uFEFFbom\u2060wj\u00ADsoft \u200B x"],
  ["Unicode line breaks and vertical space", "a\u0085b\u2028c\u2029d\u000Be\u000Cf \u0085 g\u000B\u000Bh"],
  ["ASCII control characters",
   "\u0000\u0001\u0002 \u0007bell\u0008 \u001B[31mred\u001B[0m \u001C\u001D\u001E\u001F x\u001Fy \u007F del\u0000"],
  ["contractions", "it's don't they're we've I'm you'll he'd"],
  ["contractions in upper case", "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D It'S Don'T"],
  ["contraction-like strings", "'s's 'tis o'clock rock'n'roll ''s 'S 'LL 'dd 'md 'rev"],
  ["curly apostrophes", "it\u2019s don\u2019t \u2018quoted\u2019 \u201Cdouble\u201D"],
  ["apostrophes and spaces", " 's  'll ' ' d' '\n'"],
  ["digits", "0 1 12 123 1234 12345 123456 1234567 123456789012345678901234567890"],
  ["numbers", "3.14159 -42 +7 1,000,000 1e-10 0x1F 2024-01-15 12:30:45 $9.99 50% #1 v2.0.1 1st 2nd"],
  ["Unicode digits and numbers", "\u00B2\u00B3 \u00BD \u00BE \u216B \u0663\u0664\u0665 \uFF10\uFF11\uFF12 \u2460\u2461 x\u00B2"],
  ["punctuation runs", "!!! ??? ... --- *** ### @@@ ((())) [[ ]] {{}} <<>> ~~~ ```code``` ==> <=> != ;;"],
  ["source code", "def f(x):\n    return x**2  # square\n\nif (a&&b||!c) { y = a[i]->b; }\n\treturn 0;\n"],
  ["URL and e-mail", "https://example.com/path?q=1&r=two#frag user.name+tag@example.co.uk"],
  ["precomposed accents", "caf\u00E9 na\u00EFve r\u00E9sum\u00E9 \u00C5ngstr\u00F6m \u00C6r\u00F8sk\u00F8bing fa\u00E7ade"],
  ["combining marks", "cafe\u0301 nai\u0308ve e\u0301\u0301\u0301 a\u0300\u0301\u0302\u0303\u0304 Z\u0351\u0352\u0353 \u0301lone"],
  ["CJK", "\u6F22\u5B57\u304B\u306A\u30AB\u30CA\uD55C\uAD6D\uC5B4 \u4E2D\u6587\uFF0C\u6807\u70B9\u3002\u65E5\u672C\u8A9E\u306E\u6587\u7AE0\u3067\u3059\u3002"],
  ["emoji", "\u{1F600} \u{1F600}\u{1F600} \u{1F44D}\u{1F3FD} \u{1F1EB}\u{1F1F7}\u{1F1EF}\u{1F1F5} \u2764\uFE0F \u2714\uFE0E"],
  ["emoji ZWJ sequences",
   "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466} \u{1F469}\u{1F3FD}\u200D\u{1F4BB} \u{1F3F3}\uFE0F\u200D\u{1F308} \u{1F9D1}\u200D\u{1F91D}\u200D\u{1F9D1}"],
  ["right-to-left text",
   "\u05E9\u05DC\u05D5\u05DD \u05E2\u05D5\u05DC\u05DD \u0645\u0631\u062D\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u200F\u05D0\u05D1\u05D2\u200E abc \u202Eevil\u202C done \u0661\u0662"],
  ["Devanagari and Thai", "\u0928\u092E\u0938\u094D\u0924\u0947 \u0926\u0941\u0928\u093F\u092F\u093E \u0E2A\u0E27\u0E31\u0E2A\u0E14\u0E35\u0E0A\u0E32\u0E27\u0E42\u0E25\u0E01"],
  ["Greek and Cyrillic", "\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC \u0420\u0443\u0441\u0441\u043A\u0438\u0439 \u0442\u0435\u043A\u0441\u0442"],
  ["mathematical symbols and letters", "\u2211\u222B\u2202\u221A\u221E \u2264\u2265\u2260 \u03B1+\u03B2=\u03B3 \u{1D538}\u{1D553}\u{1D49E} \u210F"],
  ["outside the Basic Multilingual Plane", "\u{10348} \u{1D11E} \u{10FFFD} \uE000 \uFFFD \uFFFF"],
  ["mixed scripts without spaces", "abc\u4E2D\u65871234def\u{1F600}ghi\u00E9\u0301!?"],
  ["a 5,000-character word", random_word(5000, 42)],
  ["a 2,000-character run of one letter", "a".repeat(2000)],
  ["a 1,000-digit number", "9876543210".repeat(100)],
  ["1,000 spaces then a word", " ".repeat(1000) + "x"],
  ["2,000 dashes", "-".repeat(2000)],
  ["endoftext alone", "<|endoftext|>"],
  ["endoftext inside text", "Hello<|endoftext|>World <|endoftext|> next\n<|endoftext|>\n"],
  ["endoftext twice", "<|endoftext|><|endoftext|>"],
  ["endoftext near misses", "<|endoftext| <endoftext|> <|ENDOFTEXT|> < |endoftext|> <||endoftext|>"],
  ["other models' special tokens", "<|im_start|>user<|im_end|> <|fim_prefix|> <|endofprompt|>"],
];

export function edge_cases_text() {
  for (const [label, body] of CASES) {
    if (label.includes("\n") || body.includes("\n\u241E ")) throw new Error(`case '${label}' breaks the file format`);
  }
  return CASES.map(([label, body]) => `\u241E ${label}\n${body}`).join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = edge_cases_text();
  writeFileSync(EDGE_CASES_FILE, text, "utf8");
  console.log(`wrote ${EDGE_CASES_FILE}: ${CASES.length} cases, ${Buffer.byteLength(text, "utf8")} bytes`);
}
