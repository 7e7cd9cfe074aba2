"""Feature distillation loss in pure torch (runs with torch alone, no transformers): the value
against a direct formula, the projection's and the student's gradients against float64 finite
differences, and the mean over layer pairs. engine-local's parity test runs the same function on
the same numbers (src/model/ops/distill-loss-feature-torch.test.ts)."""

import importlib.util
import unittest

HAS_TORCH = importlib.util.find_spec("torch") is not None


@unittest.skipUnless(HAS_TORCH, "torch is not installed")
class FeatureLoss(unittest.TestCase):
    def setUp(self) -> None:
        import torch

        from distillery_trainer.distill_loss import feature_loss

        self.torch = torch
        self.feature_loss = feature_loss
        g = torch.Generator().manual_seed(0)
        self.s = torch.randn(4, 5, generator=g, dtype=torch.float64)
        self.t = torch.randn(4, 3, generator=g, dtype=torch.float64)
        self.targets = torch.tensor([3, -100, 0, 7])
        self.proj = torch.nn.Linear(5, 3).double()

    def test_value_is_the_per_row_mean_squared_error_summed_over_counted_rows(self) -> None:
        loss, count = self.feature_loss(self.s, self.t, self.targets, self.proj)
        y = self.s @ self.proj.weight.T + self.proj.bias
        ref = sum(float(((y[i] - self.t[i]) ** 2).mean()) for i in (0, 2, 3))
        self.assertEqual(count, 3)
        self.assertAlmostEqual(float(loss), ref, places=12)
        zero, _ = self.feature_loss(self.t, self.t, self.targets, None)
        self.assertEqual(float(zero), 0.0)
        with self.assertRaisesRegex(ValueError, "projection is needed"):
            self.feature_loss(self.s, self.t, self.targets, None)

    def test_gradients_match_finite_differences(self) -> None:
        torch = self.torch
        s = self.s.clone().requires_grad_(True)
        loss, _ = self.feature_loss(s, self.t, self.targets, self.proj)
        loss.backward()
        h = 1e-6
        for tensor, grad in ((s, s.grad), (self.proj.weight, self.proj.weight.grad), (self.proj.bias, self.proj.bias.grad)):
            flat = tensor.data.view(-1)
            for i in range(flat.numel()):
                v = float(flat[i])
                flat[i] = v + h
                up = float(self.feature_loss(s.detach(), self.t, self.targets, self.proj)[0])
                flat[i] = v - h
                down = float(self.feature_loss(s.detach(), self.t, self.targets, self.proj)[0])
                flat[i] = v
                self.assertAlmostEqual(float(grad.view(-1)[i]), (up - down) / (2 * h), places=7)
        self.assertTrue(torch.all(s.grad[1] == 0))

    def test_feature_losses_average_the_layer_pairs(self) -> None:
        from distillery_trainer.distill_loss import feature_losses

        torch = self.torch
        g = torch.Generator().manual_seed(1)
        student = [torch.randn(1, 4, 5, generator=g, dtype=torch.float64) for _ in range(3)]
        teacher = [torch.randn(1, 4, 3, generator=g, dtype=torch.float64) for _ in range(2)]
        p2 = torch.nn.Linear(5, 3).double()
        got = feature_losses([(1, 0), (2, 1)], student, teacher, self.targets[None], [self.proj, p2])
        a, _ = self.feature_loss(student[1][0], teacher[0][0], self.targets, self.proj)
        b, _ = self.feature_loss(student[2][0], teacher[1][0], self.targets, p2)
        self.assertAlmostEqual(float(got), float((a + b) / 2), places=12)


if __name__ == "__main__":
    unittest.main()
