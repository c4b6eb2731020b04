"""Fine-tuning from Python (chapter 11): parity with PyTorch, LoRA, classifiers, adapters, chat.

Shapes follow the module's convention: matrices are (features, N) Fortran-ordered, N = B*T, token t
of sequence b in column b*T + t; a classifier's scores are (K, B). K classes, r the LoRA rank.
"""
import json
import os

import numpy as np
import pytest

import gptbook as gb
from conftest import REPO, read_safetensors

FIXTURE = os.path.join(REPO, "tests/fixtures/finetune_reference.safetensors")
CASES = ["sft", "cls_last", "cls_mean"]


@pytest.fixture(scope="module")
def reference():
    """tools/reference/make_reference.py --variant finetune: (tensors, metadata)."""
    return read_safetensors(FIXTURE)


def fixture_model(reference, case):
    """The fixture's model for a case with its initial parameters (PyTorch (OC, C) = our (C, OC))."""
    tensors, meta = reference
    model = gb.GPT(gb.GPTConfig(**json.loads(meta[case + ".config"])), seed=0)
    for name, view in model.parameters().items():
        ref = tensors["param." + name]
        view[...] = ref.T if ref.ndim == 2 else ref
    return model


def run_case(model, tensors, case):
    """loss, logits in PyTorch's layout ((B, T, V) or (B, K)), with the gradients left in the model."""
    ids = tensors["inputs"]
    B, T = ids.shape
    if case == "sft":
        loss = model.loss_and_grad(ids, tensors["sft.targets"])
        return loss, model.forward(ids).logits.T.reshape(B, T, -1)
    loss, logits = model.classifier_loss_and_grad(ids, tensors["labels"], lengths=tensors["lengths"])
    assert logits.shape == (model.config.n_classes, B)
    return loss, logits.T


def assert_gradient_close(ours, ref, name):
    # The C++ parity test's tolerance (tests/model/test_parity.cpp): 1e-5 of the tensor's largest
    # gradient for elements that cancel to near zero (float32 sums in another order than PyTorch's),
    # 1e-4 relative for the others.
    ours = ours.T if ours.ndim == 2 else ours
    atol = 1e-5 * np.abs(ref).max()
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=atol, err_msg=name)


# ---- parity with PyTorch ----


@pytest.mark.parametrize("case", CASES)
def test_logits_loss_and_every_gradient_match_the_pytorch_fixture(reference, case):
    # sft: LoRA on all four linears, targets -1 not scored; cls_last / cls_mean: a 3-class head on
    # right-padded rows of 8, 3 and 6 real tokens.
    tensors, _ = reference
    model = fixture_model(reference, case)
    assert model.config.lora_rank == 4 and model.config.lora_scale == 1.5
    loss, logits = run_case(model, tensors, case)
    # float32 ulps through two layers (measured in C++: <= 1e-6 for logits, 1 ulp for the loss).
    np.testing.assert_allclose(logits, tensors[case + ".logits"], rtol=0, atol=1e-5)
    assert loss == pytest.approx(float(tensors[case + ".loss"]), abs=1e-6)
    grads = model.gradients()
    assert sorted(grads) == sorted(n[len(case) + 6:] for n in tensors if n.startswith(case + ".grad."))
    for name, g in grads.items():
        assert_gradient_close(g, tensors[f"{case}.grad.{name}"], name)


@pytest.mark.parametrize("case", CASES)
def test_with_the_base_frozen_only_adapters_and_head_get_the_same_gradients(reference, case):
    tensors, _ = reference
    model = fixture_model(reference, case)
    n = model.set_trainable(gb.finetune_trainable(model.config, "lora"))
    expected = [name for name in model.parameters() if ".lora_" in name or name.startswith("cls.")]
    assert model.trainable == expected
    assert n == model.num_trainable == sum(model.parameters()[name].size for name in expected)
    run_case(model, tensors, case)
    for name, g in model.gradients().items():
        if name in expected:
            assert_gradient_close(g, tensors[f"{case}.grad.{name}"], name)
        else:
            assert not g.any(), name  # frozen: no gradient work at all


@pytest.mark.parametrize("case", CASES)
def test_merge_lora_computes_the_same_function_without_adapters(reference, case):
    tensors, _ = reference
    merged = gb.merge_lora(fixture_model(reference, case))
    assert merged.config.lora_rank == 0
    assert not any(".lora_" in name for name in merged.parameters())
    ids = tensors["inputs"]
    if case == "sft":
        logits = merged.forward(ids).logits.T.reshape(*ids.shape, -1)
    else:
        _, logits = merged.classifier_forward(ids, lengths=tensors["lengths"])
        logits = logits.T
    # W + s B A rounds once more per weight: far below the parity tolerance.
    np.testing.assert_allclose(logits, tensors[case + ".logits"], rtol=0, atol=1e-5)


# ---- LoRA ops on NumPy arrays ----


def lora_arrays(seed=3, C=6, OC=5, r=2, N=4):
    rng = np.random.default_rng(seed)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    return f(C, N), f(C, r), f(r, OC), f(OC, N)


def test_lora_forward_adds_s_b_a_x_to_the_layer_output():
    x, a, b, base = lora_arrays()
    out, u = gb.lora_forward(x, a, b, 0.5, out=base)
    # float64 reference of eq. (11.6) in Armadillo's orientation: U = a^T x, Y = base + s b^T U.
    u64 = a.T.astype(np.float64) @ x
    np.testing.assert_allclose(u, u64, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out, base + 0.5 * b.T.astype(np.float64) @ u64, rtol=0, atol=1e-5)
    naive_out, naive_u = gb.lora_forward_naive(x, a, b, 0.5, out=base)
    np.testing.assert_allclose(naive_out, out, rtol=0, atol=1e-5)
    np.testing.assert_allclose(naive_u, u, rtol=0, atol=1e-5)
    alone, _ = gb.lora_forward(x, a, b, 0.5)  # out=None: the adapter's output alone
    np.testing.assert_allclose(alone, out - base, rtol=0, atol=1e-5)


def test_lora_backward_is_the_chain_rule_of_lora_forward():
    x, a, b, g = lora_arrays(seed=4)
    s = 1.5
    _, u = gb.lora_forward(x, a, b, s)
    dx, da, db = gb.lora_backward(g, x, u, a, b, s)
    assert dx.shape == x.shape and da.shape == a.shape and db.shape == b.shape
    x64, a64, b64, g64 = (t.astype(np.float64) for t in (x, a, b, g))
    u64 = a64.T @ x64
    np.testing.assert_allclose(db, s * u64 @ g64.T, rtol=0, atol=1e-5)  # eq. (11.7), stored (r, OC)
    np.testing.assert_allclose(da, s * x64 @ (b64 @ g64).T, rtol=0, atol=1e-5)  # eq. (11.8), stored (C, r)
    np.testing.assert_allclose(dx, s * a64 @ (b64 @ g64), rtol=0, atol=1e-5)  # eq. (11.9)


def test_lora_merge_folds_the_adapter_into_the_weight():
    x, a, b, _ = lora_arrays(seed=5)
    w = np.random.default_rng(6).standard_normal((a.shape[0], b.shape[1])).astype(np.float32)  # (C, OC)
    merged = gb.lora_merge(w, a, b, 2.0)
    # The merged layer's output, merged^T x, equals W^T x + s B A x.
    adapter, _ = gb.lora_forward(x, a, b, 2.0, out=w.T @ x)
    np.testing.assert_allclose(merged.T @ x, adapter, rtol=0, atol=1e-5)


def test_lora_ops_refuse_mismatched_shapes():
    x, a, b, _ = lora_arrays()
    with pytest.raises(gb.Error, match="lora_A is .* and lora_B is"):
        gb.lora_forward(x, a, b[:1], 1.0)
    with pytest.raises(gb.Error, match="inp is"):
        gb.lora_forward(x[:3], a, b, 1.0)
    with pytest.raises(gb.Error, match="a has 1 dimensions, expected a 2-D"):
        gb.lora_forward(x, a[:, 0], b, 1.0)


# ---- configs, models from a base, adapters ----


@pytest.fixture
def base():
    return gb.GPT(gb.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16), seed=3)


def finetuned_config(base, **changes):
    c = gb.GPTConfig.from_json(base.config.to_json())
    for k, v in changes.items():
        setattr(c, k, v)
    c.validate()
    return c


def test_config_fields_of_chapter_11_round_trip_through_json_and_repr():
    c = gb.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16, n_classes=3, pool="mean",
                     lora_rank=2, lora_alpha=4.0, lora_targets="attn.c_attn,mlp.c_proj")
    back = gb.GPTConfig.from_json(c.to_json())
    assert back == c
    assert (back.n_classes, back.pool, back.lora_rank, back.lora_alpha, back.lora_targets) == (
        3, "mean", 2, 4.0, "attn.c_attn,mlp.c_proj")
    assert c.lora_scale == 2.0
    assert "n_classes=3, pool='mean'" in repr(c) and "lora_rank=2" in repr(c)
    assert "n_classes" not in repr(gb.GPTConfig())
    names = list(gb.GPT(c).parameters())
    assert names[-2:] == ["cls.weight", "cls.bias"]
    assert "h.0.attn.c_attn.lora_A" in names and "h.0.mlp.c_proj.lora_B" in names
    assert "h.0.attn.c_proj.lora_A" not in names  # not a target
    with pytest.raises(gb.Error, match="pool"):
        gb.GPTConfig(pool="max")
    with pytest.raises(gb.Error, match="LoRA target 'attn.q'"):
        gb.GPTConfig(lora_rank=2, lora_targets="attn.q")
    assert gb.GPTConfig(n_classes=1).n_classes == 1  # a reward model's one score (chapter 12)
    with pytest.raises(gb.Error, match="n_classes is -1"):
        gb.GPTConfig(n_classes=-1)


def test_model_from_base_copies_the_base_and_a_fresh_adapter_changes_nothing(base):
    config = finetuned_config(base, lora_rank=4)
    model = gb.model_from_base(base, config, seed=5)
    params, base_params = model.parameters(), base.parameters()
    for name, p in base_params.items():
        np.testing.assert_array_equal(params[name], p)
    assert not params["h.0.attn.c_attn.lora_B"].any() and params["h.0.attn.c_attn.lora_A"].any()
    ids = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 3, 3, 3, 4, 4]])
    # B = 0: the adapters add exact zeros, so the logits are the base's bit for bit.
    np.testing.assert_array_equal(model.forward(ids).logits, base.forward(ids).logits)
    with pytest.raises(gb.Error, match="architecture differs"):
        gb.model_from_base(base, finetuned_config(base, n_layer=1))
    with pytest.raises(gb.Error, match="vocabulary would shrink"):
        gb.model_from_base(base, finetuned_config(base, vocab_size=5))


def test_a_grown_vocabulary_keeps_the_base_rows(base):
    model = gb.model_from_base(base, finetuned_config(base, vocab_size=14), seed=1)
    wte, base_wte = model.parameters()["wte.weight"], base.parameters()["wte.weight"]  # (C, V)
    assert wte.shape == (16, 14)
    np.testing.assert_array_equal(wte[:, :11], base_wte)
    assert wte[:, 11:].any()


def test_save_adapter_and_apply_adapter_round_trip(base, tmp_path):
    model = gb.model_from_base(base, finetuned_config(base, n_classes=2, lora_rank=2), seed=2)
    model.set_trainable(gb.finetune_trainable(model.config, "lora"))
    names = gb.adapter_tensor_names(model)
    assert names == model.trainable and names[-2:] == ["cls.weight", "cls.bias"] and len(names) == 2 + 2 * 4 * 2
    rng = np.random.default_rng(0)
    for name in names:  # as if trained
        p = model.parameters()[name]
        p[...] = rng.standard_normal(p.shape)
    path = tmp_path / "adapter.safetensors"
    gb.save_adapter(path, model, {"gptbook.base": "runs/tiny"})
    tensors, meta = read_safetensors(path)
    assert sorted(tensors) == sorted(names)
    assert meta["gptbook.base"] == "runs/tiny" and json.loads(meta["gptbook.config"])["n_classes"] == 2
    assert os.path.getsize(path) < 0.3 * 4 * model.num_parameters  # an adapter, not the model
    back = gb.apply_adapter(base, path)
    assert back.config == model.config
    for name, p in model.parameters().items():
        np.testing.assert_array_equal(back.parameters()[name], p, err_msg=name)
    other = gb.GPT(gb.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16))
    with pytest.raises(gb.Error, match="adapter was trained on another base"):
        gb.apply_adapter(other, path)
    with pytest.raises(gb.Error, match="every tensor of the model trains"):
        gb.save_adapter(tmp_path / "all.safetensors", base)


def test_set_trainable_takes_names_or_a_callable_and_refuses_bad_choices(base):
    n = base.set_trainable(["ln_f.weight", "ln_f.bias"])
    assert base.trainable == ["ln_f.weight", "ln_f.bias"] and n == 32
    base.loss_and_grad([1, 2, 3], [2, 3, 4])
    grads = base.gradients()
    assert grads["ln_f.weight"].any() and not grads["wte.weight"].any()
    assert base.set_trainable(lambda name: name.startswith("h.1.")) == sum(
        p.size for name, p in base.parameters().items() if name.startswith("h.1."))
    with pytest.raises(gb.Error, match="no tensor 'h.9.ln_1.weight'"):
        base.set_trainable(["h.9.ln_1.weight"])
    with pytest.raises(gb.Error, match="no tensor of the model was chosen"):
        base.set_trainable(lambda name: False)
    with pytest.raises(gb.Error, match="pick is the string 'lora'"):
        base.set_trainable("lora")
    with pytest.raises(ZeroDivisionError):  # the callable's own error, the model unchanged
        base.set_trainable(lambda name: 1 / 0)
    assert base.trainable[0] == "h.1.ln_1.weight"
    with pytest.raises(gb.Error, match="needs adapters: give --lora-rank"):
        gb.finetune_trainable(base.config, "lora")
    with pytest.raises(gb.Error, match="scope 'some' is unknown"):
        gb.finetune_trainable(base.config, "some")


# ---- a classifier ----


def test_classifier_forward_reads_only_the_real_tokens(base):
    model = gb.model_from_base(base, finetuned_config(base, n_classes=3, pool="mean"), seed=1)
    ids = np.array([[1, 2, 3, 9, 9, 9], [4, 5, 6, 7, 8, 1]])
    loss, logits = model.classifier_forward(ids, lengths=[3, 6])
    assert loss is None and logits.shape == (3, 2)
    padded = ids.copy()
    padded[0, 3:] = 0  # other padding: the scores of row 0 do not change
    np.testing.assert_array_equal(model.classifier_forward(padded, lengths=[3, 6])[1], logits)
    alone = model.classifier_forward(ids[0, :3])[1]  # one row of 3 tokens, no padding
    np.testing.assert_allclose(alone[:, 0], logits[:, 0], rtol=0, atol=1e-6)
    loss, _ = model.classifier_forward(ids, lengths=[3, 6], labels=[2, 0])
    # The mean cross-entropy over the two rows, from the scores.
    z = logits.astype(np.float64)
    logp = z - np.log(np.exp(z).sum(axis=0))
    assert loss == pytest.approx(-(logp[2, 0] + logp[0, 1]) / 2, abs=1e-6)


def test_classifier_errors_say_what_is_wrong(base):
    with pytest.raises(gb.Error, match="the model is a language model"):
        base.classifier_forward([1, 2, 3])
    model = gb.model_from_base(base, finetuned_config(base, n_classes=2), seed=1)
    with pytest.raises(gb.Error, match="the model is a classifier"):
        model.forward([1, 2, 3])
    with pytest.raises(gb.Error, match="sequence 1 has length 9, expected 1..4"):
        model.classifier_forward(np.ones((2, 4), dtype=np.int32), lengths=[4, 9])
    with pytest.raises(gb.Error, match="sequence 0 has label 2, expected a class in 0..1"):
        model.classifier_loss_and_grad([1, 2, 3], labels=[2])
    with pytest.raises(gb.Error, match="3 labels for 1 sequences"):
        model.classifier_forward([1, 2, 3], labels=[0, 1, 0])
    with pytest.raises(gb.Error, match="labels has dtype float64, expected integers"):
        model.classifier_forward([1, 2, 3], labels=[0.5])
    with pytest.raises(gb.Error, match="labels is None"):
        model.classifier_loss_and_grad([1, 2, 3], None)


def test_evaluate_classifier_counts_the_argmax_of_each_row(base):
    model = gb.model_from_base(base, finetuned_config(base, n_classes=3), seed=4)
    rng = np.random.default_rng(1)
    rows = [rng.integers(0, 11, size=n) for n in (1, 3, 8, 5, 2, 7, 4)]
    labels = np.array([0, 1, 2, 0, 1, 2, 0])
    scores = gb.evaluate_classifier(model, rows, labels, batch_size=3)
    predicted = [int(np.argmax(model.classifier_forward(r)[1][:, 0])) for r in rows]
    expected = np.zeros((3, 3), dtype=np.int64)
    for y, p in zip(labels, predicted):
        expected[y, p] += 1
    np.testing.assert_array_equal(scores.confusion, expected)
    assert scores.accuracy == pytest.approx(np.trace(expected) / len(rows))
    losses = [model.classifier_forward(r, labels=[y])[0] for r, y in zip(rows, labels)]
    assert scores.loss == pytest.approx(np.mean(losses), abs=1e-6)
    text = scores.format("test", ["a", "b", "c"])
    assert text.startswith("test accuracy") and "confusion matrix" in text
    with pytest.raises(gb.Error, match="sequence 0 has 9 tokens, expected 1..8"):
        gb.evaluate_classifier(model, [np.zeros(9, dtype=np.int32)], [0])
    with pytest.raises(gb.Error, match="not a classifier"):
        gb.evaluate_classifier(base, rows, labels)


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))


def test_labelled_jsonl_loads_encodes_and_reports_its_line(tmp_path):
    path = tmp_path / "train.jsonl"
    write_jsonl(path, [{"text": "abc", "label": "spam"}, {"text": "ba", "label": "ham", "id": "x"},
                       {"text": "cab", "label": "spam"}])
    s = gb.load_labelled_jsonl(path)
    assert s.classes == ["ham", "spam"] and s.texts == ["abc", "ba", "cab"] and len(s) == 3
    np.testing.assert_array_equal(s.labels, [1, 0, 1])
    assert gb.load_labelled_jsonl(path, ["spam", "ham"]).labels.tolist() == [0, 1, 0]
    rows, labels = gb.encode_labelled(s, gb.Tokenizer.char("abc"), 2)
    assert [r.tolist() for r in rows] == [[0, 1], [1, 0], [2, 0]] and labels.tolist() == [1, 0, 1]
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": 3, "label": "y"}\n')
    with pytest.raises(gb.Error, match="bad.jsonl.*line 2"):
        gb.load_labelled_jsonl(tmp_path / "bad.jsonl")


def test_spam_data_dir_says_how_to_get_the_data(monkeypatch, tmp_path):
    monkeypatch.setenv("GPTBOOK_DATA_DIR", str(tmp_path))
    with pytest.raises(gb.Error, match="install-spam-data.sh"):
        gb.spam_data_dir()
    (tmp_path / "spamassassin").mkdir()
    for name in ("train", "val", "test"):
        write_jsonl(tmp_path / "spamassassin" / f"{name}.jsonl", [{"text": "a", "label": "ham"}])
    assert os.path.samefile(gb.spam_data_dir(), tmp_path / "spamassassin")


# ---- tokenizers, the chat template and instructions ----


def test_the_chat_template_worked_example_of_chat_hpp():
    tok = gb.Tokenizer.char("hiko").with_added_tokens(specials=gb.chat_special_tokens())
    assert tok.vocab_size == 7 and [tok.special_id(t) for t in gb.chat_special_tokens()] == [4, 5, 6]
    assert tok.special_id("<|nope|>") is None
    np.testing.assert_array_equal(gb.chat_prompt_ids(tok, "hi"), [4, 0, 1, 5])
    inputs, targets = gb.chat_example_ids(tok, "hi", "ok")
    assert inputs.tolist() == [4, 0, 1, 5, 3, 2] and targets.tolist() == [-1, -1, -1, 3, 2, 6]
    assert tok.decode(gb.chat_prompt_ids(tok, "hi")) == "<|user|>hi<|assistant|>"
    with pytest.raises(gb.Error, match='has no "<\\|user\\|>" token'):
        gb.chat_prompt_ids(gb.Tokenizer.char("hiko"), "hi")
    custom = gb.ChatTemplate(user="<u>", assistant="<a>", end="<e>")
    assert gb.chat_special_tokens(custom) == ["<u>", "<a>", "<e>"] and "'<u>'" in repr(custom)


def test_with_added_tokens_keeps_every_id_and_encode_ordinary_never_gives_a_special_id():
    base = gb.Tokenizer.train_bpe("the end of the text, the end " * 20, 270)
    tok = base.with_added_tokens(specials=gb.chat_special_tokens())
    assert tok.vocab_size == base.vocab_size + 3
    text = "the end of it"
    np.testing.assert_array_equal(tok.encode(text), base.encode(text))
    end = tok.special_id("<|end|>")
    assert end == base.vocab_size + 2
    assert tok.encode("<|end|>").tolist() == [end]
    ordinary = tok.encode_ordinary("<|end|>")
    assert end not in ordinary and tok.decode(ordinary) == "<|end|>"
    chars = gb.Tokenizer.char("ab").with_added_tokens("bcd")
    assert chars.vocab_size == 4 and chars.decode([0, 1, 2, 3]) == "abcd"


def test_instructions_are_deterministic_and_split_by_instance():
    families = gb.instruction_families()
    assert "reverse" in families and len(gb.instruction_words()) == 350
    ins = gb.make_instruction("reverse", 0, 0)
    assert ins.response == ins.prompt.split()[-1].rstrip(".")[::-1] and ins.family == "reverse"
    assert gb.instruction_correct(ins, ins.response + "<|end|>garbage")
    assert not gb.instruction_correct(ins, ins.response + "x")
    r1, r2 = gb.Rng(9), gb.Rng(9)
    a = [gb.random_training_instruction(r1) for _ in range(20)]
    b = [gb.random_training_instruction(r2) for _ in range(20)]
    assert [(i.prompt, i.response) for i in a] == [(i.prompt, i.response) for i in b]
    assert r1.state == r2.state != 9
    held_out = gb.instruction_eval_set("held_out_instances", 3)
    phrasing = gb.instruction_eval_set("held_out_phrasing", 3)
    assert len(held_out) == len(phrasing) == 3 * len(families)
    assert all(p.phrasing == gb.instruction_phrasing_count(p.family) - 1 for p in phrasing)
    assert all(i.phrasing < gb.instruction_phrasing_count(i.family) - 1 for i in a)
    assert {gb.instruction_split_of("add", i) for i in range(50)} == {"train", "test"}
    assert set(ins.prompt + ins.response) <= set(gb.instruction_alphabet())
    with pytest.raises(gb.Error, match="held_out_instances"):
        gb.instruction_eval_set("other", 3)
    with pytest.raises(gb.Error, match="reverse"):
        gb.make_instruction("juggle", 0, 0)


def test_load_alpaca_json_reads_instruction_and_input(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([{"instruction": "Say hi.", "output": "hi"},
                                {"instruction": "Add one.", "input": "2", "output": "3"}]))
    items = gb.load_alpaca_json(path)
    assert [(i.family, i.prompt, i.response) for i in items] == [("alpaca", "Say hi.", "hi"),
                                                                 ("alpaca", "Add one.\n\n2", "3")]
    path.write_text(json.dumps([{"instruction": "x"}]))
    with pytest.raises(gb.Error, match="alpaca.json"):
        gb.load_alpaca_json(path)


# ---- fine-tuning runs end to end: a base, a classifier, a chat model ----


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A tiny character-level language model trained for a few steps, as a run directory."""
    root = tmp_path_factory.mktemp("finetune")
    text = "".join(gb.make_instruction("reverse", i, 0).prompt + "\n" for i in range(200))
    corpus = root / "corpus.txt"
    corpus.write_text(text)
    config = gb.GPTConfig(block_size=96, n_layer=1, n_head=2, n_embd=16)
    train = gb.TrainConfig(max_iters=4, batch_size=4, eval_interval=4, eval_iters=1, log_interval=100)
    gb.Trainer(config, train, data=corpus, run_dir=root / "base").run()
    return root


def test_a_lora_classifier_run_loads_with_its_classes_and_adapter(base_run):
    labels = base_run / "labels"
    labels.mkdir()
    words = gb.instruction_words()
    for split, n in (("train", 40), ("val", 10), ("test", 10)):
        write_jsonl(labels / f"{split}.jsonl", [{"text": f"Reverse the word {words[i]}.",
                                                 "label": "long" if len(words[i]) > 5 else "short"}
                                                for i in range(n)])
    train = gb.TrainConfig(max_iters=3, batch_size=4, eval_interval=3, eval_iters=1, log_interval=100)
    trainer = gb.Trainer.finetune(base_run / "base", train, labels=labels, scope="lora", lora_rank=2,
                                  pool="mean", run_dir=base_run / "cls")
    assert trainer.classes == ["long", "short"]
    assert trainer.model.trainable == [n for n in trainer.model.parameters() if ".lora_" in n or "cls." in n]
    # A notebook's accuracy curve: the classifier scored from inside the evaluation callback.
    val = gb.load_labelled_jsonl(labels / "val.jsonl", trainer.classes)
    val_rows, val_labels = gb.encode_labelled(val, trainer.tokenizer, 96)
    history = []
    trainer.run(on_eval=lambda m: history.append(
        (m["step"], gb.evaluate_classifier(trainer.model, val_rows, val_labels).accuracy)))
    assert [step for step, _ in history] == [0, 3] and all(0 <= a <= 1 for _, a in history)  # before, after
    assert trainer.report("test").startswith("test accuracy")
    with open(base_run / "cls" / "metrics.csv") as f:
        assert "val_loss" in f.readline()
    run = gb.load_run(base_run / "cls")
    c = run.model.config
    assert (c.n_classes, c.pool, c.lora_rank) == (2, "mean", 2)
    assert run.classes == ["long", "short"] and run.base == str(base_run / "base")
    assert run.data.startswith("labels:")
    base, _ = gb.load_model(base_run / "base")
    applied = gb.apply_adapter(base, base_run / "cls" / "adapter.safetensors")
    for name, p in run.model.parameters().items():
        np.testing.assert_array_equal(applied.parameters()[name], p, err_msg=name)
    merged, _ = gb.load_model(base_run / "cls", merge_adapters=True)
    assert merged.config.lora_rank == 0 and merged.config.n_classes == 2
    rows, y = gb.encode_labelled(gb.load_labelled_jsonl(labels / "test.jsonl", run.classes), run.tokenizer, 96)
    scores = gb.evaluate_classifier(run.model, rows, y)
    assert scores.confusion.sum() == 10
    np.testing.assert_array_equal(gb.evaluate_classifier(merged, rows, y).confusion, scores.confusion)


def test_a_chat_run_answers_before_and_after_fine_tuning(base_run):
    base, tok = gb.load_model(base_run / "base")
    grown = tok.with_added_tokens(gb.instruction_alphabet(), gb.chat_special_tokens())
    before = gb.model_from_base(base, finetuned_config(base, vocab_size=grown.vocab_size), seed=1)
    pieces = []
    reply = gb.chat_reply(before, grown, "Reverse the word cat.", max_new_tokens=5, on_text=pieces.append)
    assert reply == "".join(pieces) and len(reply) <= 5 * len("<|assistant|>")
    train = gb.TrainConfig(max_iters=2, batch_size=4, eval_interval=2, eval_iters=1, log_interval=100)
    trainer = gb.Trainer.finetune(base_run / "base", train, chat="instructions", scope="last",
                                  run_dir=base_run / "chat")
    assert trainer.tokenizer.vocab_size == grown.vocab_size
    scored = []
    trainer.run(on_eval=lambda m: scored.append(gb.chat_accuracy(trainer.model, trainer.tokenizer,
                                                                 gb.instruction_eval_set("held_out_instances", 1))))
    assert len(scored) == 2 and scored[0].total == len(gb.instruction_families())  # steps 0 and 2
    run = gb.load_run(base_run / "chat")
    assert run.tokenizer.special_id("<|end|>") is not None and run.classes == []
    asked = gb.instruction_eval_set("held_out_instances", 1)
    acc = gb.chat_accuracy(run.model, run.tokenizer, asked)
    assert acc.total == len(asked) and 0 <= acc.correct <= acc.total
    assert [f.family for f in acc.by_family] == gb.instruction_families()  # one each, in the order asked
    assert sum(f.correct for f in acc.by_family) == acc.correct and all(f.total == 1 for f in acc.by_family)
    assert gb.chat_reply(run.model, run.tokenizer, asked[0].prompt, max_new_tokens=3, temperature=0.8, seed=2) == \
        gb.chat_reply(run.model, run.tokenizer, asked[0].prompt, max_new_tokens=3, temperature=0.8, seed=2)
    with pytest.raises(gb.Error, match="exactly one thing to learn"):
        gb.Trainer.finetune(base_run / "base", train)
    with pytest.raises(gb.Error, match="pass its tokenizer= too"):
        gb.Trainer.finetune(base, train, chat="instructions")
    with pytest.raises(gb.Error, match="only a fine-tuning run on labels or chat"):
        gb.Trainer(gb.GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=8), train, data="task:sort").report()
