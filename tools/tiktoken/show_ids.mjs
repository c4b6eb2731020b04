// Prints tiktoken's ids [FROM, TO) for a text, with each token's bytes: what the conformance test
// cannot show for long texts, whose fixture keeps only hashes after the first 2000 ids.
//
// Usage: node tools/tiktoken/show_ids.mjs FILE ENCODING FROM TO
//   FILE      a UTF-8 text file (e.g. ../shared/data/tinyshakespeare.txt)
//   ENCODING  <pattern>/<mode> as in the fixtures: gpt2/disallow, gpt2/allow, cl100k/allow, ...
import { encode, encoder, read_utf8 } from "./lib.mjs";

const [file, encoding, from, to] = process.argv.slice(2);
if (!file || !encoding?.includes("/") || !(Number(to) > Number(from))) {
  console.error("usage: node tools/tiktoken/show_ids.mjs FILE ENCODING FROM TO   (e.g. x.txt gpt2/disallow 1792 2048)");
  process.exit(2);
}
const [pattern, mode] = encoding.split("/");
const enc = encoder(pattern);
const ids = encode(enc, read_utf8(file).text, mode);
// Printable ASCII as it is, everything else escaped: a token may end inside a UTF-8 character.
const show = (bytes) => [...bytes].map((b) => b === 0x5c ? "\\\\" : b === 0x0a ? "\\n" : b >= 0x20 && b < 0x7f
  ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`).join("");
let offset = 0;
for (let i = 0; i < Math.min(Number(to), ids.length); ++i) {
  const bytes = Buffer.from(enc.decode_single_token_bytes(ids[i]));
  if (i >= Number(from)) console.log(`  [${i}] ${ids[i]} "${show(bytes)}"  (byte ${offset})`);
  offset += bytes.length;
}
console.log(`${ids.length} ids in all`);
