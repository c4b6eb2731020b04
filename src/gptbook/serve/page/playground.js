// The playground's page: every panel asks the JSON API under /api/ (see `gptbook serve --help`)
// about "the text": the prompt followed by what was generated or stepped so far.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { runs: [], run: null, generated: [], controller: null, generation: 0, attention: null };

// Each panel numbers its requests and shows only the answer to its latest: an older answer that
// arrives late (a slider dragged, the layer changed) is dropped.
const latest = {};
async function latestOnly(panel, ask) {
  const ticket = (latest[panel] = (latest[panel] || 0) + 1);
  const answer = await ask();
  return ticket === latest[panel] ? answer : null;
}

// ---- the API ----

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

function sampling() {
  return {
    temperature: Number($("temperature").value), top_k: Number($("top_k").value),
    top_p: Number($("top_p").value), seed: Number($("seed").value),
  };
}

function text() { return $("prompt").value + state.generated.map((t) => t.text).join(""); }

function showStatus(message, isError = false) {
  $("status").textContent = message;
  $("status").classList.toggle("error", isError);
}

// How a token's text reads on the page: spaces and newlines made visible where they would vanish.
function visible(s) { return s.replace(/\n/g, "\u21b5").replace(/ /g, "\u00b7"); }

// ---- runs ----

async function loadRuns() {
  const answer = await api("/api/runs");
  state.runs = answer.runs;
  for (const run of state.runs) $("run").add(new Option(`${run.name}`, run.name));
  $("max_new_tokens").max = answer.limits.max_new_tokens;
  pickRun(state.runs[0].name);
}

// A running generation ends (and its late tokens are ignored) when the text it continues changes.
function abortGeneration() {
  state.generation += 1;
  if (state.controller) state.controller.abort();
  state.controller = null;
  $("generate").disabled = false; $("step").disabled = false; $("stop").disabled = true;
}

function pickRun(name) {
  abortGeneration();
  state.run = state.runs.find((r) => r.name === name);
  const r = state.run;
  $("run-info").textContent = `${r.tokenizer} tokenizer, ${r.vocab_size} tokens, context ${r.block_size}, ` +
    `${r.n_layer} layers, ${r.n_head} heads, ${r.parameters.toLocaleString()} parameters` +
    (r.quantized ? ", quantized (chapter 14)" : "") +
    (r.data ? `, trained on ${r.data}` : "");
  $("top_k").max = r.vocab_size;
  $("layer").replaceChildren(...Array.from({ length: r.n_layer }, (_, l) => new Option(`${l}`, l)));
  $("head").replaceChildren(new Option("mean of the heads", "mean"),
    ...Array.from({ length: r.n_head }, (_, h) => new Option(`${h}`, h)));
  state.generated = [];
  renderOutput();
  refresh();
}

// ---- the generated text: streamed tokens coloured by probability ----

function colour(p) { return `hsl(${Math.round(120 * p)}, 75%, 82%)`; }

function renderOutput() {
  const out = $("output");
  const prompt = document.createElement("span");
  prompt.className = "prompt";
  prompt.textContent = $("prompt").value;
  out.replaceChildren(prompt);
  for (const t of state.generated) appendToken(t);
}

function appendToken(t) {
  const span = document.createElement("span");
  span.className = "tok";
  span.textContent = t.text;
  span.dataset.id = t.id;
  span.style.background = colour(t.p_model);
  span.addEventListener("mouseenter", (e) => showAlternatives(e, t));
  span.addEventListener("mouseleave", hideTooltip);
  $("output").appendChild(span);
}

function showAlternatives(event, t) {
  const rows = t.top.map((a) => `<tr${a.id === t.id ? ' class="chosen"' : ""}><td>${escapeHtml(visible(a.text))}</td>` +
    `<td>${a.p_model.toFixed(3)}</td><td>${a.p.toFixed(3)}</td></tr>`).join("");
  showTooltip(event, `<b>${escapeHtml(visible(t.text || "\ufffd"))}</b> p = ${t.p_model.toFixed(3)} (model), ` +
    `${t.p.toFixed(3)} (sampled from)<table><tr><td>top 10</td><td>model</td><td>sampler</td></tr>${rows}</table>`);
}

async function generate() {
  abortGeneration();
  const generation = state.generation;
  state.controller = new AbortController();
  $("generate").disabled = true; $("step").disabled = true; $("stop").disabled = false;
  showStatus("generating...");
  const body = { run: state.run.name, text: text(), max_new_tokens: Number($("max_new_tokens").value), ...sampling() };
  try {
    const response = await fetch("/api/generate", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      signal: state.controller.signal,
    });
    if (!response.ok) throw new Error((await response.json()).error);
    await readEvents(response, (name, data) => {
      if (generation !== state.generation) return; // the text changed: this generation is over
      if (name === "token") { state.generated.push(data); appendToken(data); }
      if (name === "done") {
        showStatus(data.error ? data.error : `${data.tokens} tokens in ${data.seconds.toFixed(2)} s ` +
          `(${data.tokens_per_second.toFixed(0)} tokens/s), stopped: ${data.stopped}`, Boolean(data.error));
      }
    });
  } catch (e) {
    if (e.name === "AbortError") showStatus("stopped"); else showStatus(e.message, true);
  } finally {
    if (generation === state.generation) {
      state.controller = null;
      $("generate").disabled = false; $("step").disabled = false; $("stop").disabled = true;
      refresh();
    }
  }
}

// Server-sent events read from a POST's body: blocks of "event: NAME\ndata: JSON" ended by a blank line.
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      const field = (name) => lines.find((l) => l.startsWith(name + ": ")).slice(name.length + 2);
      onEvent(field("event"), JSON.parse(field("data")));
    }
  }
}

// ---- step mode: the next-token distribution, and one token at a time ----

let nextAnswer = null;

async function refreshDistribution() {
  const r = state.run;
  const asked = { run: r.name, text: text(), top: Math.min(r.vocab_size, 30), ...sampling() };
  try {
    const answer = await latestOnly("next", () => api("/api/next", asked));
    if (!answer) return;
    nextAnswer = answer;
  } catch (e) { showStatus(e.message, true); return; }
  const bars = nextAnswer.distribution.map((d) => {
    const row = document.createElement("div");
    row.className = "bar-row" + (d.id === nextAnswer.sampled.id ? " drawn" : "");
    row.innerHTML = `<span class="label"></span><span class="track"><span class="model" style="width:${100 * d.p_model}%"></span>` +
      `<span class="sampled" style="width:${100 * d.p}%"></span></span><span class="value">${d.p_model.toFixed(3)} / ${d.p.toFixed(3)}</span>`;
    row.querySelector(".label").textContent = visible(d.text);
    row.dataset.id = d.id; row.dataset.p = d.p; row.dataset.pModel = d.p_model;
    return row;
  });
  const rest = document.createElement("p");
  rest.className = "hint";
  rest.textContent = `the other ${state.run.vocab_size - nextAnswer.distribution.length} tokens: ` +
    `${nextAnswer.rest.p_model.toFixed(3)} / ${nextAnswer.rest.p.toFixed(3)}; the seed draws ` +
    `"${visible(nextAnswer.sampled.text)}" (bold)`;
  const dist = $("distribution");
  dist.replaceChildren(...bars, rest);
  dist.dataset.version = Number(dist.dataset.version) + 1;
  dist.dataset.text = asked.text; // what this answer is about (the browser test reads it)
  dist.dataset.temperature = asked.temperature;
}

async function step() {
  abortGeneration();
  const generation = state.generation;
  $("generate").disabled = true; $("step").disabled = true;
  // One token through the same stream as Generate, so that it carries its alternatives too; with
  // the same seed it is the token the distribution above draws.
  const body = { run: state.run.name, text: text(), max_new_tokens: 1, ...sampling() };
  try {
    const response = await fetch("/api/generate", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error((await response.json()).error);
    await readEvents(response, (name, data) => {
      if (name !== "token" || generation !== state.generation) return;
      state.generated.push(data); appendToken(data);
      showStatus(`stepped "${visible(data.text)}" (p = ${data.p.toFixed(3)}); the seed moves on, to draw afresh`);
    });
  } catch (e) { showStatus(e.message, true); }
  $("generate").disabled = false; $("step").disabled = false;
  $("seed").value = (Number($("seed").value) + 1) % 1001; // the next step draws afresh
  showOutputs();
  refresh();
}

// ---- tokens ----

async function refreshTokens() {
  let answer;
  try {
    answer = await latestOnly("tokens", () => api("/api/tokenize", { run: state.run.name, text: text() }));
  } catch (e) { return; }
  if (!answer) return;
  $("tokens").replaceChildren(...answer.tokens.map((t) => {
    const span = document.createElement("span");
    span.className = "tok";
    // A byte-level token that holds part of a character shows its bytes: <c3>.
    span.textContent = t.bytes ? t.bytes.replace(/(..)/g, "<$1>") : visible(t.text);
    span.title = `id ${t.id}`;
    return span;
  }));
  $("tokens").dataset.count = answer.count;
}

// ---- attention heatmaps ----

async function refreshAttention() {
  try {
    const asked = { run: state.run.name, text: text(), layer: Number($("layer").value) };
    const answer = await latestOnly("attention", () => api("/api/attention", asked));
    if (!answer) return;
    state.attention = answer;
  } catch (e) { return; }
  drawHeatmap();
}

function heatmapWeights() {
  const a = state.attention;
  const head = $("head").value;
  return head === "mean" ? a.mean : a.heads[Number(head)];
}

function drawHeatmap() {
  const a = state.attention;
  if (!a) return;
  const canvas = $("heatmap");
  const g = canvas.getContext("2d");
  const n = a.tokens.length;
  const margin = n <= 64 ? 40 : 4;
  const cell = (canvas.width - margin) / n;
  const w = heatmapWeights();
  g.fillStyle = "#fff";
  g.fillRect(0, 0, canvas.width, canvas.height);
  for (let q = 0; q < n; ++q) {
    for (let k = 0; k <= q; ++k) {
      const v = Math.sqrt(w[q][k]); // the square root, so that small weights still show
      g.fillStyle = `rgb(${Math.round(255 - 220 * v)}, ${Math.round(255 - 180 * v)}, ${Math.round(255 - 60 * v)})`;
      g.fillRect(margin + k * cell, margin + q * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
  if (margin > 4) { // the tokens along both edges
    g.fillStyle = "#333";
    g.font = `${Math.min(14, Math.max(8, cell * 0.8))}px monospace`;
    g.textAlign = "center";
    a.tokens.forEach((t, i) => {
      const label = visible(t.text).slice(0, 2);
      g.fillText(label, margin + (i + 0.5) * cell, margin - 6);
      g.fillText(label, margin / 2, margin + (i + 0.75) * cell);
    });
  }
  canvas.dataset.drawn = `layer ${a.layer}, head ${$("head").value}, ${n} tokens`;
  canvas.onmousemove = (e) => {
    const rect = canvas.getBoundingClientRect();
    const scale = canvas.width / rect.width;
    const k = Math.floor(((e.clientX - rect.left) * scale - margin) / cell);
    const q = Math.floor(((e.clientY - rect.top) * scale - margin) / cell);
    if (q < 0 || k < 0 || q >= n || k >= n) return;
    const readout = k > q ? "(a token never looks ahead: the causal mask)" : heatmapWeights()[q][k].toFixed(4);
    $("heat-readout").textContent = `query ${q} "${visible(a.tokens[q].text)}" looks at key ${k} ` +
      `"${visible(a.tokens[k].text)}": ${readout}`;
  };
}

// ---- tooltips, wiring ----

function escapeHtml(s) { return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }

function showTooltip(event, html) {
  const tip = $("tooltip");
  tip.innerHTML = html;
  tip.hidden = false;
  tip.style.left = `${event.clientX + 12}px`;
  tip.style.top = `${event.clientY + 12}px`;
}

function hideTooltip() { $("tooltip").hidden = true; }

function showOutputs() {
  for (const id of ["temperature", "top_k", "top_p", "seed", "max_new_tokens"]) {
    document.querySelector(`output[for="${id}"]`).textContent = $(id).value;
  }
}

function debounce(f, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(f, ms); };
}

function refresh() { refreshDistribution(); refreshTokens(); refreshAttention(); }

const refreshSoon = debounce(refresh, 250);
const distributionSoon = debounce(refreshDistribution, 60);

$("run").addEventListener("change", (e) => pickRun(e.target.value));
$("prompt").addEventListener("input", () => { abortGeneration(); state.generated = []; renderOutput(); refreshSoon(); });
for (const id of ["temperature", "top_k", "top_p", "seed"]) {
  $(id).addEventListener("input", () => { showOutputs(); distributionSoon(); });
}
$("max_new_tokens").addEventListener("input", showOutputs);
$("generate").addEventListener("click", generate);
$("stop").addEventListener("click", () => state.controller && state.controller.abort());
$("step").addEventListener("click", step);
$("clear").addEventListener("click", () => { abortGeneration(); state.generated = []; renderOutput(); refresh(); });
$("layer").addEventListener("change", refreshAttention);
$("head").addEventListener("change", drawHeatmap);
showOutputs();
loadRuns().catch((e) => showStatus(`cannot reach the server: ${e.message}`, true));
