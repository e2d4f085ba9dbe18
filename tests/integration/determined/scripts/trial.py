"""A PyTorchTrial written to Determined's documented API, run with Trainer.fit(max_length=...)."""

import logging

import determined as det
import torch
from determined import pytorch
from torch import nn


class Pairs(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 4, generator=g)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class Counter(pytorch.PyTorchCallback):
    def __init__(self):
        self.validations = 0

    def on_validation_end(self, metrics):
        self.validations += 1

    def state_dict(self):
        return {"validations": self.validations}

    def load_state_dict(self, state_dict):
        self.validations = state_dict["validations"]


class MaxError(pytorch.MetricReducer):
    def reset(self):
        self.worst = 0.0

    def update(self, value):
        self.worst = max(self.worst, value)

    def per_slot_reduce(self):
        return self.worst

    def cross_slot_reduce(self, per_slot_metrics):
        return max(per_slot_metrics)


class RegressionTrial(pytorch.PyTorchTrial):
    def __init__(self, context):
        self.context = context
        self.model = context.wrap_model(nn.Linear(4, 1))
        self.optimizer = context.wrap_optimizer(
            torch.optim.SGD(self.model.parameters(), lr=context.get_hparam("lr"))
        )
        self.scheduler = context.wrap_lr_scheduler(
            torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.9),
            step_mode=pytorch.LRScheduler.StepMode.STEP_EVERY_EPOCH,
        )
        self.max_error = context.wrap_reducer(MaxError(), name="max_error")
        self.counter = Counter()

    def build_training_data_loader(self):
        return pytorch.DataLoader(
            Pairs(64, 0), batch_size=self.context.get_per_slot_batch_size(), shuffle=True
        )

    def build_validation_data_loader(self):
        return pytorch.DataLoader(Pairs(32, 1), batch_size=self.context.get_per_slot_batch_size())

    def build_callbacks(self):
        return {"counter": self.counter}

    def train_batch(self, batch, epoch_idx, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self.model(x).squeeze(-1), y)
        self.context.backward(loss)
        self.context.step_optimizer(
            self.optimizer,
            clip_grads=lambda params: torch.nn.utils.clip_grad_norm_(params, 1.0),
        )
        return {"loss": loss, "lr": self.scheduler.get_last_lr()[0]}

    def evaluate_batch(self, batch, batch_idx):
        x, y = batch
        error = (self.model(x).squeeze(-1) - y).abs()
        self.max_error.update(float(error.max()))
        return {"validation_loss": nn.functional.mse_loss(self.model(x).squeeze(-1), y)}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    info = det.get_cluster_info()
    with pytorch.init() as train_context:
        trial = RegressionTrial(train_context)
        trainer = pytorch.Trainer(trial, train_context)
        trainer.fit(
            max_length=pytorch.Batch(int(info.trial.hparams.get("batches", 24))),
            validation_period=pytorch.Epoch(1),
            checkpoint_period=pytorch.Batch(8),
            reporting_period=pytorch.Batch(4),
            latest_checkpoint=info.latest_checkpoint,
        )
    print(f"validations={trial.counter.validations}", flush=True)
