"""The array convention of the module: Armadillo shapes in Fortran order, one column per token,
and parameter arrays that are views of the model (chapters 02, 03, 08)."""
import gc

import numpy as np

import gptbook as gb
from conftest import random_ids


def test_a_column_of_the_embedding_output_is_that_tokens_embedding_plus_its_position(tiny_model):
    rng = np.random.default_rng(1)
    B, T = 3, 5
    ids = random_ids(rng, tiny_model.config.vocab_size, B, T)
    fw = tiny_model.forward(ids)
    params = tiny_model.parameters()
    wte, wpe = params["wte.weight"], params["wpe.weight"]  # (C, V), (C, T)
    C = tiny_model.config.n_embd
    assert fw.encoded.shape == (C, B * T)
    assert fw.encoded.flags["F_CONTIGUOUS"]
    for b in range(B):
        for t in range(T):
            # The same float additions as embedding_forward + positional_forward: exact.
            np.testing.assert_array_equal(fw.encoded[:, b * T + t], wte[:, ids[b, t]] + wpe[:, t])


def test_transposing_and_reshaping_an_activation_gives_pytorchs_b_t_c_view(tiny_model):
    rng = np.random.default_rng(2)
    B, T = 2, 6
    ids = random_ids(rng, tiny_model.config.vocab_size, B, T)
    fw = tiny_model.forward(ids)
    res = fw.layers[1]["res_3"]  # (C, N)
    btc = res.T.reshape(B, T, -1)
    for b in range(B):
        for t in range(T):
            np.testing.assert_array_equal(btc[b, t], res[:, b * T + t])
    # Round trip back to (C, N) in Fortran order: the very same bytes.
    back = np.asfortranarray(btc.reshape(B * T, -1).T)
    assert back.tobytes(order="F") == res.tobytes(order="F")


def test_a_one_dimensional_ids_array_is_one_sequence(tiny_model):
    ids = np.array([1, 2, 3, 4])
    single = tiny_model.forward(ids)
    batched = tiny_model.forward(ids[None, :])
    assert (single.B, single.T) == (1, 4)
    np.testing.assert_array_equal(single.logits, batched.logits)
    np.testing.assert_array_equal(tiny_model.forward([1, 2, 3, 4]).logits, single.logits)  # a list works too


def test_parameter_arrays_have_armadillo_shapes_in_fortran_order(tiny_model):
    cfg = tiny_model.config
    C, V, T = cfg.n_embd, cfg.vocab_size, cfg.block_size
    p = tiny_model.parameters()
    assert p["wte.weight"].shape == (C, V)
    assert p["wpe.weight"].shape == (C, T)
    assert p["h.0.attn.c_attn.weight"].shape == (C, 3 * C)
    assert p["h.0.mlp.c_proj.weight"].shape == (4 * C, C)
    assert p["h.1.ln_2.bias"].shape == (C,)
    assert all(a.dtype == np.float32 and a.flags["F_CONTIGUOUS"] and a.flags["WRITEABLE"] for a in p.values())
    assert sum(a.size for a in p.values()) == tiny_model.num_parameters


def test_writing_a_parameter_through_numpy_changes_the_forward_pass(tiny_model):
    ids = np.array([3, 1, 4])
    before = tiny_model.forward(ids).encoded
    wte = tiny_model.parameters()["wte.weight"]
    wte[:, 3] += 1.0  # token 3's embedding, in place
    after = tiny_model.forward(ids).encoded
    np.testing.assert_allclose(after[:, 0] - before[:, 0], 1.0, rtol=0, atol=1e-6)  # float32 rounding of x+1-x
    np.testing.assert_array_equal(after[:, 1:], before[:, 1:])  # tokens 1 and 4 untouched
    # A second parameters() call sees the write: both are views of one buffer.
    np.testing.assert_array_equal(tiny_model.parameters()["wte.weight"], wte)


def test_a_parameter_view_keeps_its_model_alive(tiny_config):
    model = gb.GPT(tiny_config, seed=3)
    ln_f = model.parameters()["ln_f.weight"]
    del model
    gc.collect()
    np.testing.assert_array_equal(ln_f, np.ones(tiny_config.n_embd, dtype=np.float32))  # LayerNorm gains start at 1


def test_activations_are_copies_that_the_model_does_not_overwrite(tiny_model):
    fw = tiny_model.forward([1, 2])
    logits = fw.logits
    tiny_model.parameters()["wte.weight"][:] = 0.0
    np.testing.assert_array_equal(fw.logits, logits)
    assert not np.all(logits == 0.0)
