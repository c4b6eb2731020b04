// Shared by the fixture, inspection and benchmark scripts: the texts, tiktoken's encoders, and the
// hash of an id sequence that the C++ conformance test recomputes.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const tiktoken = require("tiktoken");

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURE_DIR = join(REPO, "tests", "fixtures", "tokenizer");
const HERE = dirname(fileURLToPath(import.meta.url));
export const TIKTOKEN_VERSION =
  JSON.parse(readFileSync(join(HERE, "node_modules", "tiktoken", "package.json"), "utf8")).version;
export const GPT2 = require("tiktoken/encoders/gpt2.json");
export const CL100K = require("tiktoken/encoders/cl100k_base.json");

/// Pre-tokenization patterns by the names the C++ side uses (BpePattern::gpt2, ::cl100k).
export const PATTERNS = { gpt2: GPT2.pat_str, cl100k: CL100K.pat_str };

/// GPT-2's vocabulary and special token with the given pre-tokenization pattern. With "gpt2" this
/// is get_encoding("gpt2"); with "cl100k" it checks the cl100k pattern without cl100k's
/// vocabulary: merges never cross a pre-token, so any difference is a difference in splitting.
export function encoder(pattern) {
  if (pattern === "gpt2") return tiktoken.get_encoding("gpt2");
  return new tiktoken.Tiktoken(GPT2.bpe_ranks, GPT2.special_tokens, PATTERNS[pattern]);
}

/// The ids for one of the C++ SpecialTokens modes: "allow" encodes <|endoftext|> as 50256,
/// "ordinary" as plain text, "disallow" (tiktoken's default) throws if the text contains it.
export function encode(enc, text, mode) {
  if (mode === "allow") return enc.encode(text, "all");
  if (mode === "ordinary") return enc.encode_ordinary(text);
  if (mode === "disallow") return enc.encode(text);
  throw new Error(`unknown special-token mode '${mode}'`);
}

/// The id-sequence hash of the fixtures: SHA-256 over the ids written as consecutive
/// little-endian uint32 (4 bytes per id, no header), as lowercase hex.
export function ids_sha256(ids) {
  const bytes = Buffer.alloc(4 * ids.length);
  ids.forEach((id, i) => bytes.writeUInt32LE(id, 4 * i));
  return createHash("sha256").update(bytes).digest("hex");
}

export function sha256_hex(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/// Reads a file that must be valid UTF-8 (tiktoken encodes JavaScript strings, so invalid bytes
/// would silently become U+FFFD and the ids would not be those of the file).
export function read_utf8(path) {
  const bytes = readFileSync(path);
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  return { bytes, text };
}

/// tiny Shakespeare from $GPTBOOK_DATA_MIRROR, else ../shared/data beside the repository, checked
/// against data/manifest.json. Never committed.
export function shakespeare_path() {
  const dir = process.env.GPTBOOK_DATA_MIRROR ?? join(REPO, "..", "shared", "data");
  const path = join(dir, "tinyshakespeare.txt");
  if (!existsSync(path)) {
    throw new Error(`${path} not found: set GPTBOOK_DATA_MIRROR to a directory holding tinyshakespeare.txt, ` +
                    `or run scripts/fetch-data.sh shakespeare and set GPTBOOK_DATA_MIRROR=data/cache`);
  }
  const manifest = JSON.parse(readFileSync(join(REPO, "data", "manifest.json"), "utf8"));
  const entry = manifest.corpora.find((c) => c.file === "tinyshakespeare.txt");
  const digest = sha256_hex(readFileSync(path));
  if (entry.sha256 !== digest) {
    throw new Error(`${path} has SHA-256 ${digest}, expected ${entry.sha256} (data/manifest.json); replace the file`);
  }
  return path;
}

/// The cases of edge_cases.txt (format in make_edge_cases.mjs) with the byte offset and length of
/// each body inside the file, so that the C++ test can slice the same bytes.
export function split_edge_cases(bytes) {
  const sep = Buffer.from("\n\u241E ", "utf8");
  const head = Buffer.from("\u241E ", "utf8");
  if (!bytes.subarray(0, head.length).equals(head)) throw new Error("edge_cases.txt must start with '\u241E '");
  const cases = [];
  let start = head.length;
  while (start <= bytes.length) {
    let end = bytes.indexOf(sep, start);
    if (end < 0) end = bytes.length;
    const newline = bytes.indexOf(0x0a, start);
    if (newline < 0 || newline > end) throw new Error(`edge case at byte ${start} has no label line`);
    const label = bytes.subarray(start, newline).toString("utf8");
    cases.push({ label, offset: newline + 1, length: end - (newline + 1) });
    start = end + sep.length;
  }
  return cases;
}
