"""The GPT from Python: gradients, attention, parity with PyTorch, checkpoints (chapters 04-08)."""
import doctest
import os

import numpy as np
import pytest

import gptbook as gb
from conftest import REPO, random_ids, read_safetensors


def test_loss_and_grad_matches_central_differences_on_a_few_parameters(tiny_model):
    rng = np.random.default_rng(4)
    V = tiny_model.config.vocab_size
    ids, targets = random_ids(rng, V, 2, 8), random_ids(rng, V, 2, 8)
    tiny_model.loss_and_grad(ids, targets)
    params, grads = tiny_model.parameters(), tiny_model.gradients()
    # float32 loss (~2.4) rounds at ~2e-7, ~4e-5 of gradient noise over 2*eps; a larger eps meets
    # the curvature (eps=1e-2 misses wpe[0, 0] by 15%).
    eps = 3e-3
    checked = 0
    for name in ["wte.weight", "wpe.weight", "h.0.attn.c_attn.weight", "h.1.mlp.c_fc.bias", "ln_f.weight"]:
        p, g = params[name], grads[name].copy()
        flat = p.reshape(-1, order="F")  # a view: writes reach the model
        for i in rng.choice(flat.size, size=3, replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = tiny_model.loss(ids, targets)
            flat[i] = old - eps
            down = tiny_model.loss(ids, targets)
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            analytic = g.reshape(-1, order="F")[i]
            # Measured over every parameter of this model: the worst error is 0.21 of this tolerance.
            assert analytic == pytest.approx(numeric, rel=2e-2, abs=5e-4), (name, i)
            checked += 1
    assert checked == 15


def test_loss_and_grad_zeroes_the_gradients_first(tiny_model):
    ids, targets = [1, 2, 3], [2, 3, 4]
    tiny_model.loss_and_grad(ids, targets)
    first = tiny_model.gradients()["h.0.attn.c_attn.weight"].copy()
    tiny_model.loss_and_grad(ids, targets)
    np.testing.assert_array_equal(tiny_model.gradients()["h.0.attn.c_attn.weight"], first)  # not doubled
    assert np.abs(first).max() > 0


def test_attention_rows_sum_to_one_and_are_causal(tiny_model):
    rng = np.random.default_rng(5)
    B, T = 3, 7
    fw = tiny_model.forward(random_ids(rng, tiny_model.config.vocab_size, B, T))
    for layer in range(tiny_model.config.n_layer):
        att = fw.attention(layer)  # [b, h, query, key]
        assert att.shape == (B, tiny_model.config.n_head, T, T)
        # Each row is a softmax over at most T float32 terms: sums within a few ulps of 1.
        np.testing.assert_allclose(att.sum(axis=-1), 1.0, rtol=0, atol=1e-6)
        assert np.all(np.triu(att, k=1) == 0.0)  # no query attends to a later key
        assert np.all(att[..., 0, 0] == 1.0)  # the first token can only attend to itself


@pytest.mark.parametrize("fixture", ["gpt_reference", "llama_reference"])
def test_forward_matches_the_pytorch_reference_fixture(fixture):
    # llama_reference: chapter 10's switches (RoPE, RMSNorm, SwiGLU, 2 kv heads, no bias, untied head)
    tensors, meta = read_safetensors(os.path.join(REPO, "tests/fixtures", fixture + ".safetensors"))
    import json

    c = json.loads(meta["config"])
    model = gb.GPT(gb.GPTConfig(**c), seed=0)
    params = model.parameters()
    for name, view in params.items():
        ref = tensors["param." + name]  # PyTorch (OC, C) row-major = our (C, OC) Fortran
        view[...] = ref.T if ref.ndim == 2 else ref
    fw = model.forward(tensors["inputs"], tensors["targets"])
    B, T = tensors["inputs"].shape
    # The C++ parity test's tolerances (tests/model/test_parity.cpp): float32 ulps through 2 layers.
    np.testing.assert_allclose(fw.logits.T.reshape(B, T, -1), tensors["logits"], rtol=0, atol=1e-5)
    assert fw.loss == pytest.approx(float(tensors["loss"]), abs=1e-6)
    np.testing.assert_allclose(fw.ln_f.T.reshape(B, T, -1), tensors["act.ln_f"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(fw.attention(0), tensors["act.h0.att"], rtol=0, atol=1e-6)  # probabilities <= 1


def test_probs_are_the_softmax_of_the_logits_with_or_without_targets(tiny_model):
    ids = [[1, 2, 3], [4, 5, 6]]
    for fw in (tiny_model.forward(ids), tiny_model.forward(ids, [[2, 3, 4], [5, 6, 7]])):
        z = fw.logits.astype(np.float64)
        p = np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
        np.testing.assert_allclose(fw.probs, p, rtol=1e-5, atol=1e-7)  # float32 exp (fast-math: a few ulps)


def test_forward_loss_equals_loss_and_targets_of_minus_one_are_not_scored(tiny_model):
    ids, targets = np.array([[1, 2, 3, 4]]), np.array([[2, 3, 4, 5]])
    fw = tiny_model.forward(ids, targets)
    assert fw.loss == tiny_model.loss(ids, targets)
    assert tiny_model.forward(ids).loss is None
    masked = targets.copy()
    masked[0, :2] = -1
    assert tiny_model.loss(ids, masked) == pytest.approx(fw.losses[0, 2:].mean(), rel=1e-6)  # float32 mean of 2


def test_a_model_saved_with_its_tokenizer_loads_back_equal(tmp_path):
    tok = gb.Tokenizer.char("to be or not to be")
    model = gb.GPT(gb.GPTConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=8), seed=9)
    path = str(tmp_path / "model.safetensors")
    model.save(path, tok)
    loaded, loaded_tok = gb.load_model(path)
    assert loaded.config == model.config
    assert loaded_tok.to_json() == tok.to_json()
    ids = tok.encode("not to")
    np.testing.assert_array_equal(loaded.forward(ids).logits, model.forward(ids).logits)
    loaded_dir, _ = gb.load_model(str(tmp_path))  # a run directory holding model.safetensors
    assert loaded_dir.num_parameters == model.num_parameters


def test_the_same_seed_initialises_the_same_model_and_another_does_not(tiny_config):
    a, b, c = gb.GPT(tiny_config, seed=1), gb.GPT(tiny_config, seed=1), gb.GPT(tiny_config, seed=2)
    np.testing.assert_array_equal(a.parameters()["wte.weight"], b.parameters()["wte.weight"])
    assert not np.array_equal(a.parameters()["wte.weight"], c.parameters()["wte.weight"])
    assert np.all(a.parameters()["h.0.attn.c_attn.bias"] == 0.0)  # GPT-2 init: biases 0


def test_positions_are_the_learned_table_or_the_sinusoids(tiny_config):
    learned = gb.GPT(tiny_config, seed=1)
    np.testing.assert_array_equal(learned.positions(), learned.parameters()["wpe.weight"])
    tiny_config.position = "sinusoidal"
    fixed = gb.GPT(tiny_config, seed=1)
    assert "wpe.weight" not in fixed.parameters()
    C, T = tiny_config.n_embd, tiny_config.block_size
    np.testing.assert_array_equal(fixed.positions(), gb.sinusoidal_table(C, T))
    table = gb.sinusoidal_table(C, T)
    t, i = 5, 3  # eq. (3.3): P[2i, t] = sin(t / 10000^(2i/C)); float32 sin of a float32 angle
    assert table[2 * i, t] == pytest.approx(np.sin(t / 10000 ** (2 * i / C)), abs=1e-6)


def test_chapter_10_switches_are_config_fields_and_change_the_parameter_table(tiny_config):
    llama = gb.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=4, n_embd=16, position="rope",
                         norm="rmsnorm", mlp="swiglu", multiple_of=8, n_kv_head=2, bias=False, tie_head=False)
    assert "rope" in repr(llama) and "n_kv_head=2" in repr(llama)
    assert llama.mlp_hidden == 48  # 2*64/3 = 42, rounded up to a multiple of 8
    params = gb.GPT(llama, seed=1).parameters()
    assert "wpe.weight" not in params and "h.0.ln_1.bias" not in params and "lm_head.weight" in params
    assert params["h.0.attn.c_attn.weight"].shape == (16, 16 + 2 * 2 * 4)  # Armadillo (C, C + 2 KVH HS)
    with pytest.raises(gb.Error, match="does not divide n_head"):
        gb.GPTConfig(n_head=4, n_kv_head=3)
    with pytest.raises(gb.Error, match="norm 'batchnorm' is unknown"):
        gb.GPTConfig(norm="batchnorm")


def test_the_module_docstring_example_runs_as_written():
    result = doctest.testmod(gb, verbose=False)
    assert result.attempted >= 4 and result.failed == 0
