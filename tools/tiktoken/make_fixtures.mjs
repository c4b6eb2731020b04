// Writes the reference GPT-2 token ids that tests/tokenizer/test_gpt2_conformance.cpp compares
// gptbook's BpeTokenizer against, computed by OpenAI's tiktoken (the npm build, Rust compiled to
// WASM):
//
//   tests/fixtures/tokenizer/edge_cases.gpt2.json       every case of edge_cases.txt with its ids
//                                                       verbatim, and the whole file as a long text
//   tests/fixtures/tokenizer/tinyshakespeare.gpt2.json  all of tiny Shakespeare: count, hash, the
//                                                       first 2000 ids, a hash per block of 256 ids
//
// Each text is encoded several ways, named "<pattern>/<mode>":
//   pattern  gpt2    get_encoding("gpt2")
//            cl100k  GPT-2's vocabulary with cl100k_base's pre-tokenization regex (checks
//                    BpePattern::cl100k without cl100k's vocabulary, which gptbook cannot load)
//   mode     allow     encode(text, "all"): <|endoftext|> is id 50256   (SpecialTokens::allow)
//            ordinary  encode_ordinary(text): it is plain text           (SpecialTokens::ordinary)
//            disallow  encode(text): tiktoken's default                  (SpecialTokens::disallow)
// "<pattern>/ordinary" is written only for texts that contain <|endoftext|> ("contains_special"):
// for the others all three modes give the ids of "<pattern>/allow".
//
// An encoding is {count, ids_sha256, ids[, block_size, block_sha256]}: ids is the whole sequence
// when its length equals count, else its first 2000. ids_sha256 is SHA-256 over the ids as
// consecutive little-endian uint32; block_sha256[k] is the first 16 hex digits of the same hash
// over ids [k*block_size, (k+1)*block_size), which lets the test find where a long text differs.
//
// Usage (repository root, after scripts/install-deps.sh installed node_modules):
//   node tools/tiktoken/make_fixtures.mjs          tiny Shakespeare from $GPTBOOK_DATA_MIRROR
//                                                  (default ../shared/data) is required
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURE_DIR, PATTERNS, TIKTOKEN_VERSION, encode, encoder, ids_sha256, read_utf8, sha256_hex,
         shakespeare_path, split_edge_cases } from "./lib.mjs";

const HEAD = 2000;       // ids kept verbatim for long texts
const BLOCK = 256;       // ids per block hash: a failing test narrows a difference to this many ids

function describe(enc, bytes, text, mode, verbatim) {
  const ids = Array.from(encode(enc, text, mode));
  const decoded = Buffer.from(enc.decode(Uint32Array.from(ids)));
  if (!decoded.equals(bytes)) throw new Error("tiktoken's decode(encode(text)) differs from the text");
  const out = { count: ids.length, ids_sha256: ids_sha256(ids), ids: verbatim ? ids : ids.slice(0, HEAD) };
  if (!verbatim) {
    out.block_size = BLOCK;
    out.block_sha256 = [];
    for (let k = 0; k < ids.length; k += BLOCK) out.block_sha256.push(ids_sha256(ids.slice(k, k + BLOCK)).slice(0, 16));
  }
  return out;
}

// JSON with one line per id array: readable diffs when the fixtures are regenerated.
function to_json(v, indent = "") {
  const inner = indent + " ";
  if (Array.isArray(v) && v.every((x) => typeof x !== "object")) return `[${v.map((x) => JSON.stringify(x)).join(",")}]`;
  if (Array.isArray(v)) return `[\n${v.map((x) => inner + to_json(x, inner)).join(",\n")}\n${indent}]`;
  if (v !== null && typeof v === "object") {
    return `{\n${Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${to_json(x, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(v);
}

function header(file, bytes) {
  return {
    generator: "tools/tiktoken/make_fixtures.mjs (its opening comment documents this format)",
    tiktoken: TIKTOKEN_VERSION,
    vocabulary: "GPT-2 (tiktoken get_encoding(\"gpt2\")): 50257 ids, <|endoftext|> = 50256",
    ids_sha256: "SHA-256 over the ids as consecutive little-endian uint32, lowercase hex",
    encodings: "<pattern>/<mode>: pattern gpt2 = get_encoding(\"gpt2\"), cl100k = GPT-2's vocabulary with " +
               "cl100k_base's regex; mode = how <|endoftext|> in the text is encoded (allow, ordinary, disallow)",
    patterns: PATTERNS,
    text: { file, bytes: bytes.length, sha256: sha256_hex(bytes) },
  };
}

function write(name, json) {
  const path = join(FIXTURE_DIR, name);
  writeFileSync(path, to_json(json) + "\n");
  console.log(`wrote ${path}`);
}

function edge_cases() {
  const { bytes } = read_utf8(join(FIXTURE_DIR, "edge_cases.txt"));
  const encoders = { gpt2: encoder("gpt2"), cl100k: encoder("cl100k") };
  const spans = [{ label: "the whole file", offset: 0, length: bytes.length }, ...split_edge_cases(bytes)];
  const cases = spans.map(({ label, offset, length }, i) => {
    const verbatim = i > 0; // the whole file repeats the cases' ids: keep its hashes only
    const slice = bytes.subarray(offset, offset + length);
    const text = slice.toString("utf8");
    let contains_special = false;
    try { encode(encoders.gpt2, text, "disallow"); } catch { contains_special = true; }
    const encodings = {
      "gpt2/allow": describe(encoders.gpt2, slice, text, "allow", verbatim),
      "cl100k/allow": describe(encoders.cl100k, slice, text, "allow", verbatim),
    };
    if (contains_special) {
      encodings["gpt2/ordinary"] = describe(encoders.gpt2, slice, text, "ordinary", verbatim);
      encodings["cl100k/ordinary"] = describe(encoders.cl100k, slice, text, "ordinary", verbatim);
    }
    return { label, offset, length, contains_special, encodings };
  });
  write("edge_cases.gpt2.json", { ...header("tests/fixtures/tokenizer/edge_cases.txt", bytes), cases });
}

function shakespeare() {
  const { bytes, text } = read_utf8(shakespeare_path());
  const encodings = {
    "gpt2/disallow": describe(encoder("gpt2"), bytes, text, "disallow", false),
    "cl100k/disallow": describe(encoder("cl100k"), bytes, text, "disallow", false),
  };
  const cases = [{ label: "tiny Shakespeare", offset: 0, length: bytes.length, contains_special: false, encodings }];
  write("tinyshakespeare.gpt2.json", { ...header("tinyshakespeare.txt from $GPTBOOK_DATA_MIRROR (not committed)", bytes), cases });
}

edge_cases();
shakespeare();
