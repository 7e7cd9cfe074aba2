import random
import unittest

from distillery_trainer.formatting import IGNORE_INDEX, build_example
from distillery_trainer.packing import (
    can_attend,
    collate_packed_rows,
    collate_padded,
    flatten_rows,
    pack_first_fit_decreasing,
    pack_row,
    segment_ids,
)

M = IGNORE_INDEX


class FirstFitDecreasing(unittest.TestCase):
    def test_every_example_once_and_within_capacity(self) -> None:
        rng = random.Random(0)
        lengths = [rng.randint(1, 64) for _ in range(500)]
        bins = pack_first_fit_decreasing(lengths, 64)
        flat = sorted(i for b in bins for i in b)
        self.assertEqual(flat, list(range(500)))
        for b in bins:
            self.assertLessEqual(sum(lengths[i] for i in b), 64)
        # FFD is within 11/9 OPT + 1 of optimal; the lower bound of OPT is total / capacity.
        self.assertLessEqual(len(bins), int(11 / 9 * (sum(lengths) / 64 + 1)) + 1)

    def test_deterministic(self) -> None:
        lengths = [5, 3, 5, 2, 8, 1]
        self.assertEqual(pack_first_fit_decreasing(lengths, 8), pack_first_fit_decreasing(lengths, 8))
        self.assertEqual(pack_first_fit_decreasing(lengths, 8), [[4], [0, 1], [2, 3, 5]])

    def test_too_long_raises(self) -> None:
        with self.assertRaises(ValueError):
            pack_first_fit_decreasing([9], 8)


class Rows(unittest.TestCase):
    def setUp(self) -> None:
        self.a = build_example([1, 10], [20, 2], max_len=16)  # 4 tokens
        self.b = build_example([1, 11, 12], [21, 22, 2], max_len=16)  # 6 tokens

    def test_position_ids_restart_per_example(self) -> None:
        row = pack_row([self.a, self.b])
        self.assertEqual(row["input_ids"], [1, 10, 20, 2, 1, 11, 12, 21, 22, 2])
        self.assertEqual(row["position_ids"], [0, 1, 2, 3, 0, 1, 2, 3, 4, 5])
        self.assertEqual(row["seq_lens"], [4, 6])

    def test_no_label_crosses_an_example_boundary(self) -> None:
        # The model predicts labels[t] from tokens < t. The first label of b would be predicted
        # from a's last token: it must be ignored, even with full (not completion-only) loss.
        full_b = build_example([1, 11, 12], [21, 22, 2], max_len=16, completion_only=False)
        row = pack_row([self.a, full_b])
        self.assertEqual(row["labels"][4], M)
        self.assertEqual(row["labels"], [M, M, 20, 2, M, 11, 12, 21, 22, 2])

    def test_attention_stays_inside_each_example(self) -> None:
        seq_lens = [4, 6]
        self.assertEqual(segment_ids(seq_lens), [0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        self.assertTrue(can_attend(seq_lens, 3, 0))
        self.assertFalse(can_attend(seq_lens, 4, 3))
        self.assertFalse(can_attend(seq_lens, 2, 3))
        self.assertTrue(can_attend(seq_lens, 9, 4))

    def test_padding_is_its_own_segment_with_ignored_labels(self) -> None:
        rows = [pack_row([self.a, self.b]), pack_row([self.a])]
        batch = collate_packed_rows(rows, pad_id=0)
        self.assertEqual(len(batch["input_ids"][1]), 10)
        self.assertEqual(batch["input_ids"][1][4:], [0] * 6)
        self.assertEqual(batch["labels"][1][4:], [M] * 6)
        self.assertEqual(batch["position_ids"][1], [0, 1, 2, 3, 0, 1, 2, 3, 4, 5])
        self.assertEqual(batch["seq_lens"][1], [4, 6])
        self.assertEqual(batch["seq_lens"][0], [4, 6])
        self.assertEqual(batch["num_tokens"], 14)

    def test_flatten_for_varlen(self) -> None:
        rows = [pack_row([self.a, self.b]), pack_row([self.a])]
        flat = flatten_rows(rows)
        self.assertEqual(len(flat["input_ids"]), 1)
        self.assertEqual(len(flat["input_ids"][0]), 14)
        self.assertEqual(flat["seq_lens"], [[4, 6, 4]])
        self.assertEqual(flat["position_ids"][0][10:], [0, 1, 2, 3])
        self.assertEqual(flat["num_tokens"], 14)

    def test_padded_baseline_batch(self) -> None:
        batch = collate_padded([self.a, self.b], pad_id=0)
        self.assertEqual(batch["attention_mask"][0], [1, 1, 1, 1, 0, 0])
        self.assertEqual(batch["labels"][0], [M, M, 20, 2, M, M])
        self.assertEqual(batch["num_tokens"], 10)


if __name__ == "__main__":
    unittest.main()
