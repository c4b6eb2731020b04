"""Sampling from Python: the next-token distribution and generation (chapter 07)."""
import numpy as np
import pytest

import gptbook as gb


@pytest.fixture
def model():
    return gb.GPT(gb.GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16), seed=11)


def test_greedy_generation_equals_the_argmax_of_repeated_forward_passes(model):
    prompt = [3, 1, 4]
    out = model.generate(prompt, 10, greedy=True)  # 13 tokens: past block_size=8, the context slides
    assert out.dtype == np.int32 and out[:3].tolist() == prompt and len(out) == 13
    ids = list(prompt)
    for _ in range(10):
        context = ids[-model.config.block_size:]
        ids.append(int(np.argmax(model.forward(context).logits[:, -1])))
    assert out.tolist() == ids


def test_top_k_of_one_is_one_hot_at_the_most_likely_token(model):
    ids = [1, 2, 3]
    probs = model.next_token_distribution(ids, top_k=1)
    logits = model.forward(ids).logits[:, -1]
    expected = np.zeros(13, dtype=np.float32)
    expected[np.argmax(logits)] = 1.0
    np.testing.assert_array_equal(probs, expected)
    np.testing.assert_array_equal(gb.next_token_distribution(logits, top_k=1), expected)


def test_the_distribution_at_temperature_one_is_the_softmax_of_the_last_logits(model):
    ids = [5, 6, 7, 8]
    fw = model.forward(ids)
    probs = model.next_token_distribution(ids)
    assert probs.shape == (13,) and probs.dtype == np.float32
    np.testing.assert_allclose(probs, fw.probs[:, -1], rtol=1e-5, atol=1e-7)  # two float32 softmaxes
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_temperature_sharpens_and_top_p_cuts_the_tail():
    logits = np.array([2.0, 1.0, 0.0, -1.0], dtype=np.float32)
    cold = gb.next_token_distribution(logits, temperature=0.5)
    hot = gb.next_token_distribution(logits, temperature=2.0)
    assert cold[0] > hot[0] and cold[3] < hot[3]
    nucleus = gb.next_token_distribution(logits, top_p=0.7)  # p = 0.64, 0.24, ...: two tokens reach 0.7
    assert nucleus[2] == 0.0 and nucleus[3] == 0.0
    assert nucleus[:2].sum() == pytest.approx(1.0, abs=1e-6)


def test_the_same_seed_samples_the_same_tokens(model):
    a = model.generate([1], 20, temperature=1.0, seed=5)
    b = model.generate([1], 20, temperature=1.0, seed=5)
    np.testing.assert_array_equal(a, b)
    assert np.all((a >= 0) & (a < 13))
