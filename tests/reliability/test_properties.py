"""Property-based tests (hypothesis) of what every data pipeline leans on: the list-file parser and the frame
samplers. Lists round-trip, every malformed line is reported with its file and line, and sampled frame
indices are always inside the video and the same for the same seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlib.data.clip_sampler import ClipSampler
from paperlib.data.lists import ListFormatError, VideoRecord, read_list, write_list

# Path characters: letters, digits, punctuation, symbols and plain spaces (a path may contain spaces, since
# the last two fields are split off from the right); no line breaks or other whitespace.
_path_chars = st.characters(whitelist_categories=("L", "N", "P", "S"), whitelist_characters=" ")
paths = st.text(_path_chars, min_size=1, max_size=40).map(str.strip).filter(bool)
records = st.builds(
    VideoRecord,
    path=paths,
    num_frames=st.integers(0, 10**6),
    labels=st.lists(st.integers(0, 10**4), min_size=1, max_size=5).map(tuple),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(st.lists(records, min_size=1, max_size=20))
def test_list_files_round_trip(tmp_path, written):
    path = write_list(tmp_path / "list.txt", written)
    read = read_list(path)
    assert [(r.path, r.num_frames, r.labels) for r in read] == [(r.path, r.num_frames, r.labels) for r in written]
    assert [r.line for r in read] == list(range(1, len(written) + 1))


malformed = st.one_of(
    st.text(_path_chars, min_size=1, max_size=20).filter(lambda s: len(s.split()) in (1, 2)),  # too few fields
    st.tuples(paths, st.text("abc-x.", min_size=1, max_size=4), st.integers(0, 9)).map(
        lambda p: f"{p[0]} {p[1]} {p[2]}"
    ),
    st.tuples(paths, st.integers(0, 99), st.text("ab,;", min_size=1, max_size=4)).map(
        lambda p: f"{p[0]} {p[1]} {p[2]}"
    ),
    st.tuples(paths, st.integers(-99, -1), st.integers(0, 9)).map(lambda p: f"{p[0]} {p[1]} {p[2]}"),
)


@FAST
@given(st.lists(records, min_size=0, max_size=5), malformed, st.lists(records, min_size=0, max_size=5))
def test_a_malformed_line_is_reported_with_file_and_line(tmp_path, before, bad, after):
    path = tmp_path / "list.txt"
    lines = [f"{r.path} {r.num_frames} {','.join(map(str, r.labels))}" for r in before] + [bad]
    path.write_text("\n".join(lines + [f"{r.path} {r.num_frames} {r.labels[0]}" for r in after]) + "\n")
    with pytest.raises(ListFormatError, match=f"{path}:{len(before) + 1}: "):
        read_list(path)


samplers = st.builds(
    ClipSampler,
    mode=st.sampled_from(["tsn", "dense"]),
    t=st.integers(1, 64),
    rate=st.integers(1, 8),
    clips=st.integers(1, 10),
)


@settings(max_examples=300, deadline=None)
@given(samplers, st.integers(1, 2000), st.integers(0, 2**32 - 1))
def test_sampled_indices_stay_in_the_video_and_depend_only_on_the_seed(sampler, num_frames, seed):
    train = sampler.train(num_frames, np.random.default_rng(seed))
    assert train.shape == (1, sampler.t) and train.dtype == np.int64
    assert (0 <= train).all() and (train < num_frames).all()
    np.testing.assert_array_equal(train, sampler.train(num_frames, np.random.default_rng(seed)))
    test = sampler.test(num_frames)
    assert test.shape == (sampler.clips, sampler.t)
    assert (0 <= test).all() and (test < num_frames).all()
    np.testing.assert_array_equal(test, sampler.test(num_frames))
