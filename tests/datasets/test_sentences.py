"""sentences.py: d2l.ai preprocessing, vocabulary, padding; the real fra-eng file."""
import pytest

from gnnkit.datasets.sentences import SentencePairs, Vocab, preprocess, to_tensor, tokenize, truncate_pad


def test_preprocess_as_in_d2l():
    assert preprocess("Go.\tVa !") == "go .\tva !"
    assert preprocess("Hi,\u202fTom!\xa0Yes?") == "hi , tom ! yes ?"
    assert preprocess("Wait!") == "wait !"


def _d2l_preprocess(text):
    """The book's character loop, verbatim in effect."""
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = [" " + ch if i > 0 and ch in ",.!?" and text[i - 1] != " " else ch for i, ch in enumerate(text)]
    return "".join(out)


def test_preprocess_equals_d2l_character_loop():
    text = ".Hi..\n!x ,y,\t?z\xa0!\u202f. a!?"
    assert preprocess(text) == _d2l_preprocess(text)


def test_preprocess_equals_d2l_on_real_file(need):
    data_root = need("fra-eng/fra.txt")
    text = (data_root / "fra-eng" / "fra.txt").read_text(encoding="utf-8")[:300_000]
    assert preprocess(text) == _d2l_preprocess(text)


def test_tokenize_first_n_and_skips_malformed_lines():
    text = "go .\tva !\nbroken line\nhi .\tsalut !\nrun !\tcours !"
    src, tgt = tokenize(text)
    assert src == [["go", "."], ["hi", "."], ["run", "!"]] and tgt[1] == ["salut", "!"]
    assert tokenize(text, num_examples=2)[0] == [["go", "."], ["hi", "."]]


def test_vocab_order_min_freq_and_unknown():
    # counts: a 3, b 2, c 2 (b seen first), d 1
    v = Vocab([["a", "b", "c"], ["a", "c", "b"], ["a", "d"]], min_freq=2, reserved_tokens=["<pad>", "<eos>"])
    assert v.idx_to_token == ["<unk>", "<pad>", "<eos>", "a", "b", "c"]
    assert v[["a", "d", "c"]] == [3, 0, 5] and v.to_tokens([4, 1]) == ["b", "<pad>"]


def test_truncate_pad_and_valid_len():
    assert truncate_pad([5, 6, 7], 2, 0) == [5, 6] and truncate_pad([5], 3, 0) == [5, 0, 0]
    v = Vocab([["a", "b"]], reserved_tokens=["<pad>", "<bos>", "<eos>"])  # a = 4, b = 5
    ids, valid = to_tensor([["a"], ["a", "b", "b", "a"]], v, num_steps=3)
    assert ids.tolist() == [[4, 3, 1], [4, 5, 5]] and valid.tolist() == [2, 3]


def test_fra_eng_real(need):
    data_root = need("fra-eng/fra.txt")
    data = SentencePairs(data_root, num_steps=8, num_examples=600)
    assert len(data) == 600 and data.src.shape == (600, 8) and data.tgt_valid_len.shape == (600,)
    assert data.source[0] == ["go", "."] and data.target[0] == ["va", "!"]
    src, src_len, tgt, tgt_len = data[0]
    assert data.src_vocab.to_tokens(src[:src_len]) == ["go", ".", "<eos>"]
    assert data.tgt_vocab.to_tokens(tgt[:tgt_len]) == ["va", "!", "<eos>"]
    assert (data.src_valid_len <= 8).all() and (data.src_valid_len >= 2).all()
    assert data.src_vocab.idx_to_token[:4] == ["<unk>", "<pad>", "<bos>", "<eos>"]


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"fra-eng: missing file\(s\) .*fra\.txt"):
        SentencePairs(tmp_path)
    with pytest.raises(ValueError, match="reserved_tokens must include '<pad>' and '<eos>'"):
        SentencePairs(tmp_path, reserved_tokens=["<bos>"])


# ------------------------------------------------------------------ invisible characters, empty sides (issue 18)
def test_preprocess_removes_bom_zero_width_and_control_characters():
    dirty = "\ufeffGo\u200b.\tVa\x00 \u2060!\r"
    assert preprocess(dirty) == "go .\tva !"
    for ch in "\u200c\u200d\x07\x7f":
        assert preprocess(f"a{ch}b") == "ab"


def test_tokenize_splits_on_runs_of_spaces_and_skips_empty_sides():
    src, tgt = tokenize("go  now .\tva  !\n\tvide\nempty .\t \nhi .\tsalut .")
    assert src == [["go", "now", "."], ["hi", "."]] and tgt == [["va", "!"], ["salut", "."]]
    assert all(tok for sent in src + tgt for tok in sent)


def test_a_dirty_file_gives_the_clean_pairs(tmp_path):
    (tmp_path / "fra-eng").mkdir()
    (tmp_path / "fra-eng" / "fra.txt").write_text("\ufeffGo.\tVa !\nHi\u200b.\t\x00Salut !\nOops.\t\n",
                                                  encoding="utf-8")
    data = SentencePairs(tmp_path, num_steps=4, num_examples=None, min_freq=0)
    assert data.source == [["go", "."], ["hi", "."]] and data.target == [["va", "!"], ["salut", "!"]]


def test_fra_eng_real_vocabularies_are_the_chapters(need):
    data_root = need("fra-eng/fra.txt")
    data = SentencePairs(data_root, num_steps=10, num_examples=600, min_freq=2)
    assert (len(data), len(data.src_vocab), len(data.tgt_vocab)) == (600, 184, 201)
