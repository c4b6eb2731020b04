"""Activation buffers a GPT keeps between calls (python/activation_cache.cpp): reused for the last
(B, T) by loss, loss_and_grad, next_token_distribution and forward, never changing a result."""
import gc
import threading

import numpy as np

import gptbook as gb
from conftest import random_ids


def fresh_copy(model):
    """A model with the same weights and no cached buffers."""
    other = gb.GPT(model.config, seed=0)
    for name, view in other.parameters().items():
        view[...] = model.parameters()[name]
    return other


def test_the_buffers_of_the_last_batch_shape_are_kept_until_cleared(tiny_model):
    rng = np.random.default_rng(1)
    V = tiny_model.config.vocab_size
    assert tiny_model.cached_batch is None
    tiny_model.loss_and_grad(random_ids(rng, V, 2, 5), random_ids(rng, V, 2, 5))
    assert tiny_model.cached_batch == (2, 5)
    tiny_model.loss(random_ids(rng, V, 3, 4), random_ids(rng, V, 3, 4))
    assert tiny_model.cached_batch == (3, 4)  # the last shape replaces the one before
    tiny_model.next_token_distribution(random_ids(rng, V, 6))
    assert tiny_model.cached_batch == (1, 6)
    tiny_model.clear_cache()
    assert tiny_model.cached_batch is None


def test_a_forward_result_borrows_the_buffers_and_gives_them_back_when_freed(tiny_model):
    ids = [[1, 2, 3], [4, 5, 6]]
    fw = tiny_model.forward(ids)
    assert tiny_model.cached_batch is None  # lent to fw
    del fw
    assert tiny_model.cached_batch == (2, 3)


def test_results_in_reused_buffers_equal_those_of_a_model_that_never_ran(tiny_model):
    rng = np.random.default_rng(2)
    V = tiny_model.config.vocab_size
    # Shapes repeat and change, with and without targets, so each call finds what the last one left.
    for B, T, with_targets in [(2, 8, True), (2, 8, False), (1, 3, True), (1, 3, False), (2, 8, True)]:
        ids, targets = random_ids(rng, V, B, T), random_ids(rng, V, B, T)
        targets[0, 0] = -1  # a masked target: its loss must be 0, not what the last call left
        fresh = fresh_copy(tiny_model)
        got = tiny_model.forward(ids, targets if with_targets else None)
        want = fresh.forward(ids, targets if with_targets else None)
        np.testing.assert_array_equal(got.probs, want.probs)
        np.testing.assert_array_equal(got.layers[1]["res_3"], want.layers[1]["res_3"])
        np.testing.assert_array_equal(got.attention(0), want.attention(0))
        if with_targets:
            np.testing.assert_array_equal(got.losses, want.losses)
        else:
            assert got.loss is None and got.losses is None
        del got
        assert tiny_model.loss(ids, targets) == fresh_copy(tiny_model).loss(ids, targets)
        tiny_model.loss_and_grad(ids, targets)
        fresh.loss_and_grad(ids, targets)
        np.testing.assert_array_equal(tiny_model.gradients()["wte.weight"], fresh.gradients()["wte.weight"])
        np.testing.assert_array_equal(tiny_model.next_token_distribution(ids[0]),
                                      fresh_copy(tiny_model).next_token_distribution(ids[0]))


def test_arrays_of_a_forward_result_stay_valid_after_later_calls(tiny_model):
    rng = np.random.default_rng(3)
    V = tiny_model.config.vocab_size
    ids = random_ids(rng, V, 2, 8)
    fw = tiny_model.forward(ids)
    logits, res_3 = fw.logits, fw.layers[0]["res_3"]
    kept = logits.copy(), res_3.copy()
    tiny_model.loss_and_grad(random_ids(rng, V, 2, 8), random_ids(rng, V, 2, 8))  # same shape
    np.testing.assert_array_equal(fw.logits, kept[0])  # fw still owns its buffers
    del fw  # its buffers go back to the model ...
    tiny_model.loss(random_ids(rng, V, 2, 8), random_ids(rng, V, 2, 8))  # ... and are overwritten here
    np.testing.assert_array_equal(logits, kept[0])  # the arrays were copies
    np.testing.assert_array_equal(res_3, kept[1])


def test_a_model_at_the_address_of_a_freed_one_finds_no_buffers():
    small = gb.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    wide = gb.GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16)
    for config in [small, wide, small, wide]:  # the allocator hands a freed GPT's address to the next
        model = gb.GPT(config, seed=1)
        assert model.cached_batch is None
        assert np.isfinite(model.loss([[1, 2, 3]], [[2, 3, 4]]))
        fw = model.forward([[1, 2, 3]])  # outlives its model, then gives back to no one
        del model
        gc.collect()
        nxt = gb.GPT(config, seed=1)
        assert nxt.cached_batch is None
        nxt.loss([[1, 2]], [[2, 3]])  # an entry of its own ...
        nxt.clear_cache()
        del fw  # ... which must not get the buffers of the freed model's Forward
        assert nxt.cached_batch is None
        del nxt


def test_the_trainers_model_uses_the_cache_too():
    preset = gb.TrainConfig.preset("sort")
    trainer = gb.Trainer(preset.model, preset.train, data="task:sort")
    model = trainer.model
    ids = trainer.tokenizer.encode("120201>0011")
    loss = model.loss(ids[:-1], ids[1:])
    assert model.cached_batch == (1, 10)
    assert model.loss(ids[:-1], ids[1:]) == loss


def test_threads_sharing_a_model_get_the_results_of_a_lone_thread(tiny_model):
    rng = np.random.default_rng(4)
    V = tiny_model.config.vocab_size
    batches = [(random_ids(rng, V, B, T), random_ids(rng, V, B, T)) for B, T in [(2, 8), (1, 5), (3, 8), (2, 8)]]
    want = [tiny_model.loss(ids, targets) for ids, targets in batches]
    errors = []

    def work(offset):
        for i in range(40):  # calls overlap: the GIL is released while the model runs
            k = (i + offset) % len(batches)
            if tiny_model.loss(*batches[k]) != want[k]:
                errors.append(k)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
