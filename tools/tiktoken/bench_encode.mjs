// Times tiktoken's "gpt2" encode (Rust compiled to WASM: one thread) on a text, for
// scripts/bench-tokenizer.sh to compare with gptbook's BM_bpe_encode/gpt2 on the same machine.
//
// Usage: node tools/tiktoken/bench_encode.mjs FILE [--repetitions N] [--warmup N]
// Prints one line per repetition and a summary line:
//   tiktoken_encode bytes B tokens T median_s S min_s S mb_per_s M cpu_median_s S cpu_mb_per_s M
// MB/s is 1e6 bytes per second of the median repetition (wall clock), as Google Benchmark's
// bytes_per_second; the cpu_ figures use the process's CPU time instead (user + system), which
// a busy machine disturbs less.
import { encoder, read_utf8 } from "./lib.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const file = args[0];
const repetitions = option("--repetitions", 5), warmup = option("--warmup", 2);
if (!file || !(repetitions > 0) || !(warmup >= 0)) {
  console.error("usage: node tools/tiktoken/bench_encode.mjs FILE [--repetitions N] [--warmup N]");
  process.exit(2);
}
const { bytes, text } = read_utf8(file);
const enc = encoder("gpt2");
let tokens = 0;
// Warm-up: WASM compilation tiers, the JS string -> UTF-8 copy paths, tiktoken's regex caches.
for (let i = 0; i < warmup; ++i) tokens = enc.encode(text).length;
const times = [], cpu_times = [];
for (let i = 0; i < repetitions; ++i) {
  const cpu_start = process.cpuUsage();
  const start = process.hrtime.bigint();
  tokens = enc.encode(text).length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu_start);
  times.push(seconds);
  cpu_times.push((cpu.user + cpu.system) / 1e6);
  console.log(`repetition ${i + 1}/${repetitions}: ${seconds.toFixed(4)} s, ${(bytes.length / seconds / 1e6).toFixed(2)} MB/s`);
}
const median = (v) => {
  const sorted = [...v].sort((a, b) => a - b), mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const wall = median(times), cpu = median(cpu_times);
console.log(`tiktoken_encode bytes ${bytes.length} tokens ${tokens} median_s ${wall.toFixed(6)} ` +
            `min_s ${Math.min(...times).toFixed(6)} mb_per_s ${(bytes.length / wall / 1e6).toFixed(3)} ` +
            `cpu_median_s ${cpu.toFixed(6)} cpu_mb_per_s ${(bytes.length / cpu / 1e6).toFixed(3)}`);
enc.free();
