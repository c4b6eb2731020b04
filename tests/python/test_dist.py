"""Chapter 15 from Python: the simulated ring all-reduce sums like NumPy in 2(N-1) steps, each rank
sending to its right-hand neighbour; the time models (15.3) and (15.4) against a case worked by hand."""
import numpy as np
import pytest

import gptbook as gb


@pytest.mark.parametrize("N, n", [(1, 5), (2, 7), (3, 3), (4, 2), (4, 17), (5, 64), (8, 3)])
def test_the_simulated_ring_sums_like_numpy(N, n):
    rng = np.random.default_rng(N * 100 + n)
    buffers = [rng.integers(-50, 50, size=n).astype(np.float32) for _ in range(N)]
    inputs = [b.copy() for b in buffers]
    r = gb.ring_allreduce_simulated(buffers)
    assert r["result"].shape == (N, n) and r["result"].dtype == np.float32
    # Small integers: every partial sum is exact in float32, whatever order the ring adds in.
    np.testing.assert_array_equal(r["result"], np.tile(np.sum(buffers, axis=0), (N, 1)))
    assert len(r["steps"]) == 2 * (N - 1)
    for b, before in zip(buffers, inputs):  # the inputs are copied, not summed in place
        np.testing.assert_array_equal(b, before)
    if N > 1:
        np.testing.assert_array_equal(r["steps"][-1]["buffers"], r["result"])


def test_each_step_sends_one_chunk_per_rank_to_its_right_hand_neighbour():
    N, n = 4, 8
    buffers = [np.full(n, 10.0**k, np.float32) for k in range(N)]  # the sum's digits say who was added
    steps = gb.ring_allreduce_simulated(buffers)["steps"]
    assert [s["phase"] for s in steps] == ["reduce-scatter"] * 3 + ["all-gather"] * 3
    assert [s["step"] for s in steps] == [0, 1, 2, 0, 1, 2]
    for s in steps:
        assert sorted(f for f, _, _ in s["sent"]) == list(range(N))
        assert all(to == (f + 1) % N for f, to, _ in s["sent"])
        assert sorted(c for _, _, c in s["sent"]) == list(range(N))  # every chunk moves once a step
        assert s["buffers"].shape == (N, n)
    # Reduce-scatter step s: rank r sends chunk (r - s) mod N (ring.hpp).
    assert steps[0]["sent"] == [(r, (r + 1) % N, r) for r in range(N)]
    # After reduce-scatter rank r holds the whole sum of chunk (r + 1) mod N: 1111 in its 2 floats.
    counts = gb.shard_counts(n, N)
    after = steps[N - 2]["buffers"]
    for r in range(N):
        c = (r + 1) % N
        np.testing.assert_array_equal(after[r, 2 * c:2 * c + counts[c]], 1111.0)


def test_shard_counts_split_as_evenly_as_can_be():
    assert gb.shard_counts(10, 4) == [3, 3, 2, 2]
    assert gb.shard_counts(2, 4) == [1, 1, 0, 0]
    assert gb.shard_counts(124_439_808, 64) == [1_944_372] * 64
    assert sum(gb.shard_counts(809_857, 7)) == 809_857


def test_the_time_model_against_a_case_worked_by_hand():
    S, bw, lat = 400e6, 12.5e9, 25e-6  # 100 M floats on 100 Gbit/s
    # (15.3), N = 4: 2 * 3/4 * 400e6 / 12.5e9 = 0.048 s, plus 6 messages of 25 us = 0.00015 s.
    assert gb.ring_allreduce_seconds(S, 4, bw, lat) == pytest.approx(0.04815, rel=1e-12)
    assert gb.ring_allreduce_seconds(S, 1, bw, lat) == 0.0
    # (15.4): 0.1 s of compute, 0.03 s of it the backward pass: 0.1 + (0.04815 - 0.03).
    assert gb.step_seconds(0.1, S, 0.03, 4, bw, lat) == pytest.approx(0.11815, rel=1e-12)
    # The backward pass hides the whole all-reduce: the step is the compute alone.
    assert gb.step_seconds(0.1, S, 0.06, 4, bw, lat) == pytest.approx(0.1, rel=1e-12)
    assert gb.step_seconds(0.1, S, 0.0, 4, bw, lat) == pytest.approx(0.14815, rel=1e-12)
    assert gb.step_seconds(0.1, S, 0.03, 1, bw, lat) == 0.1


def test_bad_input_raises_gptbook_error_with_what_was_expected():
    with pytest.raises(gb.Error, match="no buffers; expected one per rank"):
        gb.ring_allreduce_simulated([])
    with pytest.raises(gb.Error, match="rank 1 has 3 floats, rank 0 has 4"):
        gb.ring_allreduce_simulated([np.zeros(4), np.zeros(3)])
    with pytest.raises(gb.Error, match=r"buffers\[1\] has 2 dimensions, expected a 1-D \(n,\) array"):
        gb.ring_allreduce_simulated([np.zeros(4), np.zeros((2, 2))])
    with pytest.raises(gb.Error, match=r"buffers\[0\] has dtype <U1, expected floats"):
        gb.ring_allreduce_simulated([np.array(["a", "b"])])
    with pytest.raises(gb.Error, match="N=0.*expected N >= 1"):
        gb.ring_allreduce_seconds(1e6, 0, 1e9, 1e-6)
    with pytest.raises(gb.Error, match="bandwidth 0 B/s"):
        gb.ring_allreduce_seconds(1e6, 2, 0.0, 1e-6)
    with pytest.raises(gb.Error, match="bytes is -1"):
        gb.ring_allreduce_seconds(-1, 2, 1e9, 1e-6)
    with pytest.raises(gb.Error, match="overlappable_s <= compute_s"):
        gb.step_seconds(0.05, 1e6, 0.1, 2, 1e9, 1e-6)
    with pytest.raises(gb.Error, match="0 shards; expected at least 1"):
        gb.shard_counts(10, 0)
    with pytest.raises(gb.Error, match="n is -3"):
        gb.shard_counts(-3, 2)
