"""Chapter 13 from Python: the world of facts, BM25 against the hand-computed example, InfoNCE and its
gradient against central differences, embeddings of a small embedding model, and the judge."""
import numpy as np
import pytest

import gptbook as gb


def test_the_world_and_its_questions():
    passages = gb.world_passages("test", 4)
    assert len(passages) == 20
    assert passages[0]["id"].endswith("/city")
    questions = gb.world_questions("test", 4, 7)
    assert len(questions) == 7
    texts = {p["id"]: p["text"] for p in passages}
    for q in questions:
        assert q["answer"] in texts[q["passage"]]
        assert gb.attribute_names()[q["attribute"]] == q["passage"].split("/")[1]
    train = {p["id"].split("/")[0] for p in gb.world_passages("train", 200)}
    assert not train & {p["id"].split("/")[0] for p in gb.world_passages("test", 200)}
    with pytest.raises(gb.Error, match="expected 'train'"):
        gb.world_passages("dev", 3)


def test_bm25_by_hand():
    index = gb.Bm25Index(["the cat sat", "the dog sat on the mat", "cats and dogs"])
    assert len(index) == 3 and index.average_length == pytest.approx(4.0)
    assert index.idf("the") == pytest.approx(np.log(1.6))
    assert index.score("the cat", 0) == pytest.approx(1.616118, rel=1e-6)
    hits = index.search("the cat", 5)
    assert [d for d, _ in hits] == [0, 1]
    assert gb.bm25_words("Kalo's pet") == ["kalo", "s", "pet"]
    with pytest.raises(gb.Error, match="no documents to index"):
        gb.Bm25Index([])


def test_infonce_gradient_by_central_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 6)).astype(np.float32)
    loss, accuracy, dz = gb.infonce_loss(z, 0.2)
    assert dz.shape == z.shape and 0.0 <= accuracy <= 1.0
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            up, down = z.copy(), z.copy()
            up[i, j] += 1e-3
            down[i, j] -= 1e-3
            numeric = (gb.infonce_loss(up, 0.2)[0] - gb.infonce_loss(down, 0.2)[0]) / (float(up[i, j]) - float(down[i, j]))
            assert dz[i, j] == pytest.approx(numeric, rel=1e-2, abs=2e-4)
    hand = np.array([[2, 1, 1, 0], [0, 0, 1, 3]], dtype=np.float32)
    assert gb.infonce_loss(hand, 0.5)[0] == pytest.approx(0.4100, abs=5e-5)


def test_embeddings_and_the_judge():
    config = gb.GPTConfig(vocab_size=30, block_size=16, n_layer=1, n_head=2, n_embd=16)
    config.n_classes = 8
    config.pool = "mean"
    config.embedder = True
    model = gb.GPT(config, seed=1)
    tokenizer = gb.Tokenizer.char("abcdefghijklmnopqrstuvwxyz .?")
    e = gb.embed_texts(model, tokenizer, ["a cat.", "where is the dog?", "b"])
    assert e.shape == (8, 3)
    assert np.allclose(np.linalg.norm(e, axis=0), 1.0, atol=1e-5)
    assert gb.judge_answer("Seoul", "Seoul") == "correct"
    assert gb.judge_answer("Lipe Femazo was born in Seoul.", "Seoul") == "correct"
    assert gb.judge_answer(gb.unknown_answer, "Seoul") == "abstained"
    assert gb.judge_answer("Lima", "Seoul") == "hallucinated"
    assert gb.reader_prompt(["A.", "B."], "Q?") == "Q?\nA.\nB."
