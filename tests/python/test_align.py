"""Chapter 12 from Python: preference pairs and the lipogram rule, and the losses of a reward model,
DPO, PPO and GRPO with their derivatives against central differences."""
import math

import pytest

import gptbook as gb


def numeric(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_pairs_round_trip_and_bad_lines_name_the_line(tmp_path):
    pairs = [gb.PreferencePair("ROMEO:\n", "Good night.", "Be gone!"), gb.PreferencePair("", "a", "b")]
    gb.save_preferences_jsonl(tmp_path / "p.jsonl", pairs)
    back = gb.load_preferences_jsonl(tmp_path / "p.jsonl")
    assert [(p.prompt, p.chosen, p.rejected) for p in back] == [(p.prompt, p.chosen, p.rejected) for p in pairs]
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a", "chosen": "b", "rejected": ""}\n')
    with pytest.raises(gb.Error, match='line 1: the "rejected" completion is empty'):
        gb.load_preferences_jsonl(tmp_path / "bad.jsonl")


def test_the_lipogram_rule():
    assert gb.e_rate("the end") == pytest.approx(2 / 7)
    assert gb.judge("lipogram", "a cat", "the hen") == 1
    assert gb.judge("lipogram", "ab", "cd") == 0
    with pytest.raises(gb.Error, match="unknown preference rule"):
        gb.judge("shorter", "a", "b")


def test_pair_losses_and_their_derivatives():
    tie = gb.bradley_terry_loss(0.3, 0.3)
    assert tie.loss == pytest.approx(math.log(2)) and tie.d_chosen == pytest.approx(-0.5)
    p = gb.bradley_terry_loss(1.5, -0.5)
    assert p.d_chosen == pytest.approx(numeric(lambda x: gb.bradley_terry_loss(x, -0.5).loss, 1.5))
    d = gb.dpo_loss(-9.0, -12.0, -10.0, -11.5, 0.5)
    assert d.margin == pytest.approx(0.5 * ((-9.0 + 10.0) - (-12.0 + 11.5)))
    assert d.d_rejected == pytest.approx(numeric(lambda x: gb.dpo_loss(-9.0, x, -10.0, -11.5, 0.5).loss, -12.0))


def test_token_terms_gae_and_group_advantages():
    t = gb.ppo_clipped_token(-1.7, -2.0, 1.0, 0.2)  # ratio e^0.3 = 1.35 > 1.2 with A > 0: clipped
    assert t.clipped and t.dlogp == 0.0 and t.loss == pytest.approx(-1.2)
    k = gb.kl_k3_token(-2.5, -3.0)
    assert k.loss > 0 and k.dlogp == pytest.approx(numeric(lambda x: gb.kl_k3_token(x, -3.0).loss, -2.5))
    adv, returns = gb.gae_advantages([0.0, 0.0, 1.0], [0.5, 0.25, 0.75], gamma=1.0, lam=0.5)
    assert adv == pytest.approx([0.0625, 0.625, 0.25]) and returns[0] == pytest.approx(0.5625)
    g = gb.group_advantages([1, 0, 0, 0, 1, 1, 1, 1], 4)
    assert g[0] == pytest.approx(0.75 / (0.5 + 1e-4)) and g[4:] == [0, 0, 0, 0]


def test_sampled_pairs_are_ordered_by_the_rule():
    text = "First line here.\nSecond one, then.\nA third and the end.\n" * 4
    tok = gb.Tokenizer.char(text)
    model = gb.GPT(gb.GPTConfig(vocab_size=tok.vocab_size, block_size=32, n_layer=1, n_head=2, n_embd=16), seed=3)
    pairs = gb.sample_preference_pairs(model, tok, text, n=5, prompt_chars=8, completion_tokens=12, seed=4)
    assert len(pairs) == 5
    assert all(gb.e_rate(p.chosen) < gb.e_rate(p.rejected) for p in pairs)
    assert all(len(p.prompt) == 8 for p in pairs)
