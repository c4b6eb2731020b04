"""Bad input raises gptbook.Error with the C++ message (what was expected, what was found)."""
import numpy as np
import pytest

import gptbook as gb


@pytest.fixture
def model():
    return gb.GPT(gb.GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8), seed=1)


def test_gptbook_error_is_a_runtime_error():
    assert issubclass(gb.Error, RuntimeError)


def test_a_bad_config_names_the_field():
    with pytest.raises(gb.Error, match="n_embd=30 is not divisible by n_head=4"):
        gb.GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(gb.Error, match="vocab_size is 0"):
        gb.GPTConfig(vocab_size=0)
    with pytest.raises(gb.Error, match="position"):
        gb.GPTConfig(position="rotary")
    with pytest.raises(gb.Error, match="batch_size is 0"):
        gb.TrainConfig(batch_size=0)
    with pytest.raises(gb.Error, match="preset 'nope' is unknown; known presets: shakespeare-char-cpu"):
        gb.TrainConfig.preset("nope")


def test_ids_out_of_range_name_the_token(model):
    with pytest.raises(gb.Error, match=r"token 2 is id 10, expected an id in \[0, 10\)"):
        model.forward([1, 2, 10])
    with pytest.raises(gb.Error, match="is id -1"):
        model.forward([-1])


def test_a_sequence_longer_than_the_context_is_refused(model):
    with pytest.raises(gb.Error, match="T=9.*block_size=8"):
        model.forward(np.zeros(9, dtype=np.int32))


def test_ids_of_the_wrong_dtype_or_shape_are_refused(model):
    with pytest.raises(gb.Error, match="ids has dtype float64, expected integer token ids"):
        model.forward(np.array([1.0, 2.0]))
    with pytest.raises(gb.Error, match="ids has 3 dimensions, expected 1"):
        model.forward(np.zeros((1, 2, 3), dtype=np.int32))
    with pytest.raises(gb.Error, match="ids is empty"):
        model.forward([])
    with pytest.raises(gb.Error, match=r"targets is \(1, 2\), expected the shape of ids \(1, 3\)"):
        model.forward([1, 2, 3], [1, 2])
    with pytest.raises(gb.Error, match="outside int32"):
        model.forward(np.array([2**40]))


def test_tokenizer_and_sampling_errors_carry_the_cpp_message():
    tok = gb.Tokenizer.char("abc")
    with pytest.raises(gb.Error, match="U\\+007A"):  # 'z' is not in the vocabulary
        tok.encode("abz")
    with pytest.raises(gb.Error, match="not valid JSON"):
        gb.Tokenizer.from_json("{nope")
    with pytest.raises(gb.Error, match="temperature is -1"):
        gb.next_token_distribution(np.zeros(3), temperature=-1.0)
    with pytest.raises(gb.Error, match="synthetic tasks are character-level"):
        gb.Trainer(gb.GPTConfig(), gb.TrainConfig(), data="task:sort", tokenizer="bpe:300")
