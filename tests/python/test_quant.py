"""Chapter 14 from Python: a matrix rounded to int8 and int4 within half a step, a model quantized in
place whose loss barely moves, and distillation's gradient against central differences."""
import numpy as np
import pytest

import gptbook as gb


def test_quantize_matrix_round_trip_and_layout():
    rng = np.random.default_rng(0)
    w = (0.05 * rng.standard_normal((6, 64))).astype(np.float32)
    for bits, levels in [(8, 127), (4, 7)]:
        r = gb.quantize_matrix(w, bits, 32)
        assert r["q"].shape == (6, 64) and r["q"].dtype == np.int8
        assert r["scales"].shape == (6, 2)
        assert np.abs(r["q"]).max() == levels  # the largest magnitude of each group lands on +-levels
        d = np.repeat(r["scales"], 32, axis=1)
        np.testing.assert_allclose(r["dequantized"], d * r["q"], rtol=1e-6)
        assert np.abs(w - r["dequantized"]).max() <= 0.5 * d.max() * (1 + 1e-5)
        assert r["bytes"] == 6 * 64 * bits // 8 + 6 * 2 * 4
    with pytest.raises(gb.Error, match="group size 48"):
        gb.quantize_matrix(w, 8, 48)


def test_quantize_model_in_place():
    cfg = gb.GPTConfig(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=64)
    model = gb.GPT(cfg, seed=3)
    ids = np.arange(16, dtype=np.int32).reshape(1, 16) % 20
    targets = (ids + 1) % 20
    before = model.loss(ids, targets)
    w = model.parameters()["h.0.attn.c_attn.weight"].copy()
    gb.quantize_model(model, 8, 32)
    after = model.parameters()["h.0.attn.c_attn.weight"]
    assert not np.array_equal(w, after)  # the floats are now what the integers stand for
    assert np.abs(w - after).max() < 0.02 * np.abs(w).max()
    assert abs(model.loss(ids, targets) - before) < 1e-2
    with pytest.raises(gb.Error, match="already quantized"):
        gb.quantize_model(model, 4, 32)
    assert gb.quant_kernel() in ("portable", "avx2", "avx512_vnni")


def test_distill_loss_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    z = (2 * rng.standard_normal((7, 3))).astype(np.float32)
    zt = (2 * rng.standard_normal((7, 3))).astype(np.float32)
    targets = [2, -1, 5]
    loss, dz = gb.distill_loss(z, zt, targets, 0.5, 2.0)
    assert dz.shape == (7, 3)
    assert np.all(dz[:, 1] == 0)  # the ignored token
    eps = 1e-2
    for i in range(7):
        for n in (0, 2):
            zp, zm = z.copy(), z.copy()
            zp[i, n] += eps
            zm[i, n] -= eps
            num = (gb.distill_loss(zp, zt, targets, 0.5, 2.0)[0] - gb.distill_loss(zm, zt, targets, 0.5, 2.0)[0]) / (2 * eps)
            # float32 losses of O(1): noise ~1e-7 / 2e-2; truncation O(eps^2)
            assert abs(num - dz[i, n]) < 2e-3
    assert gb.distill_loss(z, z, targets, 1.0, 2.0)[0] == pytest.approx(0.0, abs=1e-6)
