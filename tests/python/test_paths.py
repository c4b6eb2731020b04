"""Every argument that names a file or directory takes a str or any os.PathLike (pathlib.Path)."""
import os

import numpy as np
import pytest

import gptbook as gb

CORPUS = "abcabcabd " * 200


class FsPath:
    """The smallest os.PathLike: only __fspath__, not a str or a pathlib.Path."""

    def __init__(self, path):
        self.path = str(path)

    def __fspath__(self):
        return self.path


def tiny_model(tok):
    return gb.GPT(gb.GPTConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=2, n_embd=8), seed=3)


@pytest.mark.parametrize("as_path", [str, FsPath, lambda p: p], ids=["str", "PathLike", "pathlib.Path"])
def test_models_and_tokenizers_save_and_load_under_any_path_type(tmp_path, as_path):
    tok = gb.Tokenizer.char("to be or not")
    model = tiny_model(tok)
    tok.save(as_path(tmp_path / "tokenizer.json"))
    assert gb.Tokenizer.load(as_path(tmp_path / "tokenizer.json")).to_json() == tok.to_json()
    model.save(as_path(tmp_path / "model.safetensors"), tok)
    for where in (tmp_path / "model.safetensors", tmp_path):  # the file, or the run directory holding it
        loaded, loaded_tok = gb.load_model(as_path(where))
        assert loaded.config == model.config and loaded_tok.to_json() == tok.to_json()
        np.testing.assert_array_equal(loaded.parameters()["wte.weight"], model.parameters()["wte.weight"])


@pytest.mark.parametrize("as_path", [str, FsPath, lambda p: p], ids=["str", "PathLike", "pathlib.Path"])
def test_corpus_functions_take_any_path_type_and_corpus_path_returns_a_str(tmp_path, as_path):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    assert gb.load_corpus(as_path(path)) == CORPUS
    resolved = gb.corpus_path(as_path(path))
    assert isinstance(resolved, str) and os.path.samefile(resolved, path)


def test_a_trainer_takes_paths_for_its_data_tokenizer_and_run_directory(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    gb.Tokenizer.char("abcd ").save(tmp_path / "tokenizer.json")
    cfg = gb.GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=16)
    tc = gb.TrainConfig(max_iters=2, batch_size=4, eval_interval=2, eval_iters=1)
    trainer = gb.Trainer(cfg, tc, data=corpus, tokenizer=tmp_path / "tokenizer.json", run_dir=tmp_path / "run")
    assert trainer.model.config.vocab_size == 5
    trainer.run()
    assert (tmp_path / "run" / "model.safetensors").exists()
    resumed = gb.Trainer(cfg, tc, run_dir=FsPath(tmp_path / "run"), resume=True)
    assert resumed.step_count == 2


def test_a_tokenizer_argument_of_another_type_raises_a_type_error_naming_what_it_takes():
    cfg = gb.GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=16)
    with pytest.raises(TypeError, match="tokenizer is int; expected 'char', 'bpe:N', 'gpt2', a tokenizer JSON path"):
        gb.Trainer(cfg, gb.TrainConfig(), data="task:sort", tokenizer=3)
