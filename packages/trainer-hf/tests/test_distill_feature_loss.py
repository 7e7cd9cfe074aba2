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



@unittest.skipUnless(HAS_TORCH, "torch is not installed")
class FeatureTrainerLoss(unittest.TestCase):
    """DistillTrainer.compute_loss in feature mode and logit + feature, on a stand-in for a HF
    causal LM (same output fields, hidden states with the last one normed, a model.norm) and a
    stand-in Trainer base: the loss is CE + w*MSE (feature) or a*CE + (1-a)*KD + w*MSE (logit), the
    projections train in the optimizer, the last index is taken before the final norm."""

    def setUp(self) -> None:
        import types

        import torch

        from distillery_trainer.distill_trainer import make_distill_trainer

        class Norm(torch.nn.Module):
            def __init__(self, d):
                super().__init__()
                self.w = torch.nn.Parameter(torch.ones(d))

            def forward(self, x):
                return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.w

        class Inner(torch.nn.Module):
            def __init__(self, V, d, L):
                super().__init__()
                self.embed = torch.nn.Embedding(V, d)
                self.layers = torch.nn.ModuleList([torch.nn.Linear(d, d) for _ in range(L)])
                self.norm = Norm(d)

        class Fake(torch.nn.Module):
            def __init__(self, V, d, L):
                super().__init__()
                self.model = Inner(V, d, L)
                self.head = torch.nn.Linear(d, V)
                self.config = types.SimpleNamespace(num_hidden_layers=L, hidden_size=d)

            def forward(self, input_ids, attention_mask=None, use_cache=False, output_hidden_states=False):
                h = self.model.embed(input_ids)
                hs = [h]
                for layer in self.model.layers:
                    h = h + torch.tanh(layer(h))
                    hs.append(h)
                n = self.model.norm(h)
                hs[-1] = n  # as transformers returns it
                return types.SimpleNamespace(logits=self.head(n), hidden_states=tuple(hs) if output_hidden_states else None)

        class Base:
            def __init__(self, model=None, args=None):
                self.model = model
                self.args = args

            def create_optimizer(self):
                self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-2, weight_decay=self.args.weight_decay)
                return self.optimizer

            def log(self, logs, *a, **k):
                self.logged = logs

        torch.manual_seed(0)
        self.torch = torch
        self.types = types
        self.student, self.teacher = Fake(11, 8, 2), Fake(11, 12, 3)
        self.cls = make_distill_trainer(Base)

    def make(self, d):
        args = self.types.SimpleNamespace(weight_decay=0.01, gradient_accumulation_steps=1)
        return self.cls(model=self.student, args=args, teacher=self.teacher, distillation=d, tokenizer=None, seed=0)

    def test_feature_and_logit_plus_feature_losses(self) -> None:
        torch = self.torch
        layers = [{"student": 2, "teacher": 3}, {"student": 1, "teacher": 1}]
        ids = torch.randint(0, 11, (2, 6))
        labels = ids.clone()
        labels[:, :2] = -100
        for mode, alpha in (("feature", 0.0), ("logit", 0.3)):
            d = {"mode": mode, "alpha": alpha, "temperature": 1.0, "lmbda": 1.0, "feature": {"layers": layers, "weight": 0.5}}
            tr = self.make(d)
            opt = tr.create_optimizer()
            self.assertEqual(len(opt.param_groups), 3)  # the model, projection weights, projection biases
            loss = tr.compute_loss(self.student, {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels.clone()})
            loss.backward()
            self.assertGreater(float(tr.projections[0].weight.grad.abs().sum()), 0)
            self.assertGreater(float(self.student.model.layers[0].weight.grad.abs().sum()), 0)
            tr.log({"loss": 0.0})
            s = tr.logged
            expected = s["ce_loss"] + 0.5 * s["feature_loss"] if mode == "feature" else alpha * s["ce_loss"] + (1 - alpha) * s["kd_loss"] + 0.5 * s["feature_loss"]
            self.assertAlmostEqual(float(loss), expected, places=5)
            self.assertEqual("kd_loss" in s, mode == "logit")
            self.student.zero_grad()

    def test_last_index_is_before_the_final_norm(self) -> None:
        from distillery_trainer.distill_trainer import hidden_states_of

        ids = self.torch.randint(0, 11, (1, 5))
        _, hs = hidden_states_of(self.student, {"input_ids": ids})
        out = self.student(ids, output_hidden_states=True)
        self.assertFalse(self.torch.allclose(hs[-1], out.hidden_states[-1]))
        self.assertTrue(self.torch.allclose(self.student.model.norm(hs[-1]), out.hidden_states[-1]))

    def test_layer_past_the_depth_is_refused_naming_the_field(self) -> None:
        from distillery_trainer.errors import TrainerError

        d = {"mode": "feature", "alpha": 0.0, "temperature": 1.0, "lmbda": 1.0, "feature": {"layers": [{"student": 3, "teacher": 1}]}}
        with self.assertRaises(TrainerError) as cm:
            self.make(d)
        self.assertEqual(cm.exception.field, "distillation.feature.layers.0.student")


if __name__ == "__main__":
    unittest.main()
