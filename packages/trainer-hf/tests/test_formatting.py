import unittest

from distillery_trainer.formatting import IGNORE_INDEX, build_example, split_eval, tokenize_rows

M = IGNORE_INDEX


class BuildExample(unittest.TestCase):
    def test_completion_only_masks_the_prompt(self) -> None:
        ex = build_example([1, 10, 11], [20, 21, 2], max_len=16)
        self.assertEqual(ex.input_ids, [1, 10, 11, 20, 21, 2])
        self.assertEqual(ex.labels, [M, M, M, 20, 21, 2])

    def test_full_loss_still_masks_the_first_token(self) -> None:
        ex = build_example([1, 10, 11], [20, 21, 2], max_len=16, completion_only=False)
        self.assertEqual(ex.labels, [M, 10, 11, 20, 21, 2])

    def test_truncates_the_completion_not_the_prompt(self) -> None:
        ex = build_example([1, 10, 11], [20, 21, 22, 23, 2], max_len=5)
        self.assertEqual(ex.input_ids, [1, 10, 11, 20, 21])
        self.assertEqual(ex.labels, [M, M, M, 20, 21])

    def test_prompt_that_fills_the_window_is_dropped(self) -> None:
        self.assertIsNone(build_example([1, 2, 3, 4], [5], max_len=4))

    def test_empty_completion_is_dropped(self) -> None:
        self.assertIsNone(build_example([1, 2], [], max_len=8))


class TokenizeRows(unittest.TestCase):
    def test_encodes_prompt_and_completion_separately(self) -> None:
        vocab: dict = {}

        def words(text: str) -> list:
            return [vocab.setdefault(w, len(vocab) + 3) for w in text.split()]

        rows = [
            {"prompt": "<|user|> hi <|assistant|>", "completion": "<think> x </think> ok <|end|>"},
            {"prompt": "a b c d e f g h", "completion": "z"},
            {"prompt": "q", "completion": "a b c d e f g h i j"},
        ]
        examples, stats = tokenize_rows(rows, lambda t: [1] + words(t), words, max_len=8)
        self.assertEqual(stats.examples, 2)
        self.assertEqual(stats.dropped_prompt_too_long, 1)
        self.assertEqual(stats.truncated, 2)
        first = examples[0]
        self.assertEqual(first.input_ids[0], 1)
        self.assertEqual(first.labels[:4], [M, M, M, M])
        self.assertEqual(len(first.input_ids), 8)
        self.assertEqual(stats.tokens, 16)
        self.assertEqual(stats.trained_tokens, 4 + 6)
        self.assertIn("2 examples", stats.describe())


class SplitEval(unittest.TestCase):
    def test_deterministic_and_disjoint(self) -> None:
        rows = list(range(100))
        train, evals = split_eval(rows, 0.1, seed=42)
        self.assertEqual(len(evals), 10)
        self.assertEqual(sorted(train + evals), rows)
        self.assertEqual(split_eval(rows, 0.1, seed=42), (train, evals))
        self.assertNotEqual(split_eval(rows, 0.1, seed=7)[1], evals)

    def test_zero_fraction_or_tiny_data(self) -> None:
        self.assertEqual(split_eval([1, 2, 3], 0, 1), ([1, 2, 3], []))
        self.assertEqual(split_eval([1], 0.5, 1), ([1], []))
        self.assertEqual(len(split_eval([1, 2], 0.5, 1)[0]), 1)


if __name__ == "__main__":
    unittest.main()
