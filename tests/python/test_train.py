"""Training from Python: Trainer.step, run() with callbacks, run directories (chapters 06, 08)."""
import gc
import os

import numpy as np
import pytest

import gptbook as gb


def sort_trainer(max_iters=40, **kw):
    cfg = gb.GPTConfig(n_layer=2, n_head=4, n_embd=32)
    tc = gb.TrainConfig(max_iters=max_iters, batch_size=16, learning_rate=3e-3, min_lr=3e-4, warmup_iters=5,
                        weight_decay=0.0, eval_interval=20, eval_iters=3, seed=1)
    return gb.Trainer(cfg, tc, data="task:sort", **kw)


def test_steps_on_the_sort_task_reduce_the_loss():
    trainer = sort_trainer()
    losses = [trainer.step() for _ in range(40)]
    assert trainer.step_count == 40
    assert trainer.last_grad_norm > 0
    # Measured: 1.33 over the first 5 steps, 0.37 over the last 5; a model that does not learn stays
    # near 1.5 (uniform over 5 tokens is ln 5 = 1.6).
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_the_task_sets_the_vocabulary_and_block_size_and_the_model_starts_from_the_seed():
    trainer = sort_trainer()
    cfg = trainer.model.config
    assert cfg.vocab_size == trainer.tokenizer.vocab_size == 5  # "\n012>"
    assert cfg.block_size == 13  # one example "120201>001122\n" per row, minus its last token
    fresh = gb.GPT(cfg, seed=1)
    np.testing.assert_array_equal(trainer.model.parameters()["wte.weight"], fresh.parameters()["wte.weight"])


def test_run_reports_every_evaluation_and_step_to_the_callbacks():
    trainer = sort_trainer()
    evals, steps = [], []
    summary = trainer.run(on_eval=evals.append, on_step=lambda step, loss: steps.append((step, loss)))
    assert [e["step"] for e in evals] == [0, 20, 40]
    assert set(evals[0]) == {"step", "lr", "train_loss", "val_loss", "tokens_per_s", "grad_norm", "train_seconds"}
    assert [s for s, _ in steps] == list(range(1, 41))
    assert evals[-1]["val_loss"] < evals[0]["val_loss"]
    assert summary["steps_done"] == 40 and not summary["interrupted"]
    assert summary["best_val_loss"] == min(e["val_loss"] for e in evals)
    assert trainer.estimate_loss("val") == pytest.approx(evals[-1]["val_loss"], rel=0.5)  # other batches


def test_an_exception_in_a_callback_stops_the_run_and_leaves_the_trainer_usable():
    trainer = sort_trainer()

    def stop(step, loss):
        if step == 3:
            raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        trainer.run(on_step=stop)
    assert trainer.step_count == 3
    assert np.isfinite(trainer.step())


def test_a_run_directory_gets_a_checkpoint_that_load_model_reads(tmp_path):
    run_dir = str(tmp_path / "run")
    trainer = sort_trainer(max_iters=20, run_dir=run_dir)
    trainer.run()
    for name in ("model.safetensors", "train_state.safetensors", "config.json", "tokenizer.json", "metrics.csv"):
        assert os.path.exists(os.path.join(run_dir, name)), name
    model, tok = gb.load_model(run_dir)
    prompt = tok.encode("120201>")
    np.testing.assert_array_equal(model.generate(prompt, 6, greedy=True),
                                  trainer.model.generate(prompt, 6, greedy=True))


def test_a_trainer_takes_a_tokenizer_object_for_a_text_corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("abcabcabd " * 200, encoding="utf-8")
    tok = gb.Tokenizer.char("abcd ")
    cfg = gb.GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=16)
    trainer = gb.Trainer(cfg, gb.TrainConfig(max_iters=5, batch_size=4, eval_iters=2), data=str(path), tokenizer=tok)
    assert trainer.model.config.vocab_size == 5
    assert np.isfinite(trainer.step())


def test_the_trainers_model_and_its_parameter_views_keep_the_trainer_alive():
    params = sort_trainer().model.parameters()  # the Trainer has no Python name left
    gc.collect()
    assert params["wte.weight"].shape == (32, 5) and np.all(np.isfinite(params["wte.weight"]))
