"""What a training run reports: energy split by phase, accuracies, metrics per epoch, resuming."""

import csv
import importlib
import io
import os
import signal

import numpy as np
import pytest

import xbar.train as T
from _digits import digits_split
from _fake_device import FakeDevice
from xbar.exceptions import ConfigError
from xbar.pulses import EnergyLedger

fit_module = importlib.import_module("xbar.train.loop")

E_READ = 1e-12  # J booked per sample read by the counting reader


def counting_reader(xa, layer):
    """Ideal reads that book E_READ per input row: an independent count of the reads."""
    layer.ledger.book("read", E_READ * len(xa))
    return xa @ T.stacked_weights(layer)


@pytest.fixture(scope="module")
def digits():
    Xtr, ytr, Xte, yte = digits_split()
    return (Xtr[:400], ytr[:400]), (Xte[:100], yte[:100])


def _pulsed_sgd(ledger, seed=0):
    rule = T.SoftmaxSGD(lr=0.5)
    factory = T.pulsed_layer_factory(
        FakeDevice(),
        T.ResetOnlyWriter(refresh_margin=0.2),
        T.PulseMapping("stochastic"),
        w_max=2.0,
        ledger=ledger,
        reader=counting_reader,
    )
    return rule, T.build_network(rule, 64, 10, [], layer_factory=factory, random_state=seed)


def test_metrics_equal_the_ledger_summed_by_phase(digits, tmp_path):
    train, test = digits
    ledger = EnergyLedger()
    rule, net = _pulsed_sgd(ledger)
    res = T.fit(
        net,
        train,
        rule=rule,
        epochs=2,
        random_state=0,
        batch_size=50,
        test=test,
        ledger=ledger,
        results_dir=tmp_path,
        progress=False,
        train_eval_samples=150,
    )
    assert sorted(k for k in ledger.totals("epoch") if k is not None) == [1, 2]  # as the metrics
    for row in res.history:
        ep = row["epoch"]
        assert row["train_energy_J"] == pytest.approx(ledger.total(phase="train", epoch=ep))
        assert row["eval_energy_J"] == pytest.approx(ledger.total(phase="eval", epoch=ep))
        # independent count: one read per evaluated sample (150 train + 100 test)
        assert row["eval_energy_J"] == pytest.approx(E_READ * 250, rel=1e-12)
        # training: 400 forward reads plus the pulses
        assert row["train_energy_J"] == pytest.approx(
            E_READ * 400 + ledger.total(["write", "half_selected", "refresh", "verify"], epoch=ep)
        )
        assert 0 <= row["train_accuracy"] <= 1 and row["train_running_accuracy"] is not None
    assert sum(r["train_energy_J"] + r["eval_energy_J"] for r in res.history) == pytest.approx(
        ledger.total()
    )
    assert res.history[-1]["energy_J"] == pytest.approx(ledger.total())
    with (tmp_path / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["eval_energy_J"]) == pytest.approx(E_READ * 250)


def test_training_accuracy_is_evaluated_after_each_epoch(digits):
    """FF gets no running accuracy for free; train_accuracy is an evaluation on training data."""
    train, test = digits
    rule = T.ForwardForward(
        lr=2.0, goodness="mean", threshold=1.0, normalize_input=False, peer_norm=0.0
    )
    net = T.build_network(rule, 64, 10, [30], random_state=0)
    res = T.fit(
        net,
        train,
        rule=rule,
        epochs=1,
        random_state=0,
        batch_size=10,
        test=test,
        progress=False,
        train_eval_samples=100,
    )
    row = res.history[0]
    assert row["train_running_accuracy"] is None
    want = float(np.mean(rule.predict(net, train[0][:100]) == train[1][:100]))
    assert row["train_accuracy"] == want


def _run_pulsed(train, test, *, ckpt=None, max_steps=None, results_dir=None, progress=False):
    ledger = EnergyLedger()
    rule, net = _pulsed_sgd(ledger)
    try:
        res = T.fit(
            net,
            train,
            rule=rule,
            epochs=2,
            random_state=3,
            batch_size=40,
            test=test,
            ledger=ledger,
            checkpoint=ckpt,
            max_steps=max_steps,
            checkpoint_every=3,
            results_dir=results_dir,
            progress=progress,
            train_eval_samples=50,
        )
    except KeyboardInterrupt:
        return None, net, ledger
    return res, net, ledger


def test_resumed_epoch_reports_the_whole_epoch(digits, tmp_path):
    """Issue 14 item 6: the interrupted epoch's row counts all its samples, energy and loss."""
    train, test = digits
    ref, ref_net, ref_ledger = _run_pulsed(train, test)
    ck = tmp_path / "ck.npz"
    part, _, _ = _run_pulsed(train, test, ckpt=ck, max_steps=13, results_dir=tmp_path / "r")
    assert len(part.history) == 1  # stopped inside epoch 2
    with (tmp_path / "r" / "metrics.csv").open() as fh:  # written after epoch 1
        assert [r["epoch"] for r in csv.DictReader(fh)] == ["1"]
    buf = io.StringIO()
    res, net, ledger = _run_pulsed(train, test, ckpt=ck, results_dir=tmp_path / "r", progress=buf)
    assert "resuming from checkpoint" in buf.getvalue() and "epoch 2/2, step 3/10" in buf.getvalue()
    assert res.resumed_from == {"epoch": 2, "step": 3, "samples_done": 120, "checkpoint": str(ck)}
    for a, b in zip(res.history, ref.history):
        assert a["samples"] == b["samples"] == 400
        for key in (
            "train_loss",
            "train_accuracy",
            "test_accuracy",
            "energy_J",
            "train_energy_J",
            "eval_energy_J",
            "train_running_accuracy",
        ):
            assert a[key] == pytest.approx(b[key], rel=1e-12), key
    assert res.history[1]["resumed_at_step"] == 3
    np.testing.assert_array_equal(net.layers[0].pairs.g_plus, ref_net.layers[0].pairs.g_plus)
    assert ledger.samples == ref_ledger.samples == 800


def test_incompatible_resume_is_refused(digits, tmp_path):
    train, _ = digits
    ck = tmp_path / "ck.npz"
    rule = T.SoftmaxSGD(lr=0.5)
    net = T.build_network(rule, 64, 10, [], random_state=0)
    T.fit(net, train, rule=rule, batch_size=10, checkpoint=ck, max_steps=3, progress=False)
    with pytest.raises(ConfigError, match="batch_size=10, this run has batch_size=20"):
        T.fit(net, train, rule=rule, batch_size=20, checkpoint=ck, progress=False)
    with pytest.raises(ConfigError, match="n_train"):
        T.fit(
            net,
            (train[0][:200], train[1][:200]),
            rule=rule,
            batch_size=10,
            checkpoint=ck,
            progress=False,
        )
    rule2 = T.Backprop()
    net2 = T.build_network(rule2, 64, 10, [20], random_state=0)
    with pytest.raises(ConfigError, match="sizes"):
        T.fit(net2, train, rule=rule2, batch_size=10, checkpoint=ck, progress=False)
    with pytest.raises(ConfigError, match="rule"):
        T.fit(net, train, rule=T.SoftmaxSGD(lr=0.1), batch_size=10, checkpoint=ck, progress=False)


def test_ctrl_c_finishes_the_step_writes_the_checkpoint_and_resumes(digits, tmp_path, monkeypatch):
    # a background job starts with SIGINT ignored; the test needs Python's own handler
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_case(digits, tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_case(digits, tmp_path, monkeypatch):
    train, test = digits
    ref, ref_net, _ = _run_pulsed(train, test)
    calls = {"n": 0}
    real = fit_module._train_step

    def step_then_interrupt(*args):
        calls["n"] += 1
        if calls["n"] == 15:
            os.kill(os.getpid(), signal.SIGINT)  # arrives inside the step
        return real(*args)

    monkeypatch.setattr(fit_module, "_train_step", step_then_interrupt)
    ck = tmp_path / "ck.npz"
    buf = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        ledger = EnergyLedger()
        rule, net = _pulsed_sgd(ledger)
        T.fit(
            net,
            train,
            rule=rule,
            epochs=2,
            random_state=3,
            batch_size=40,
            test=test,
            ledger=ledger,
            checkpoint=ck,
            checkpoint_every=3,
            progress=buf,
            train_eval_samples=50,
        )
    assert "interrupt" in buf.getvalue() and ck.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    monkeypatch.setattr(fit_module, "_train_step", real)
    st = T.load_checkpoint(ck)
    assert (int(st["epoch"]), int(st["step"])) == (1, 5)  # after step 15 = 10 + 5
    res, net, _ = _run_pulsed(train, test, ckpt=ck)
    assert [r["samples"] for r in res.history] == [400, 400]
    np.testing.assert_array_equal(net.layers[0].pairs.g_plus, ref_net.layers[0].pairs.g_plus)
    assert res.history[-1]["test_accuracy"] == ref.history[-1]["test_accuracy"]


def test_results_dir_that_is_a_file_fails_before_training(digits, tmp_path):
    train, _ = digits
    f = tmp_path / "file"
    f.write_text("x")
    rule = T.SoftmaxSGD()
    net = T.build_network(rule, 64, 10, [], random_state=0)
    w0 = T.stacked_weights(net.layers[0]).copy()
    with pytest.raises(ConfigError, match="results_dir .* is not a folder"):
        T.fit(net, train, rule=rule, results_dir=f, progress=False)
    with pytest.raises(ConfigError, match="checkpoint .* is a folder"):
        T.fit(net, train, rule=rule, checkpoint=tmp_path, progress=False)
    np.testing.assert_array_equal(T.stacked_weights(net.layers[0]), w0)  # nothing trained


def test_optimizer_matches_heavy_ball_sgd_with_weight_decay():
    """SGD(momentum, weight_decay) = torch.optim.SGD's update, written out by hand."""
    rng = np.random.default_rng(0)
    rule = T.SoftmaxSGD(lr=0.3)
    net = T.build_network(rule, 5, 3, [], random_state=1)
    W, v = T.stacked_weights(net.layers[0]).copy(), None
    opt = T.SGD(momentum=0.9, weight_decay=0.01)
    for _ in range(4):
        x, y = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
        res = rule.step(net, x, y, rng)
        ((_, xin, delta),) = res.updates
        grad = -(T.augment(xin, True).T @ delta) / 0.3 + 0.01 * W
        v = grad if v is None else 0.9 * v + grad
        W = W - 0.3 * v
        opt.apply(net, res.updates, rule.lr, 0.0, 1.0)
        np.testing.assert_allclose(T.stacked_weights(net.layers[0]), W, rtol=1e-12, atol=1e-15)


def test_lr_schedules():
    lin = T.LRSchedule("linear", decay_start=0.5, final=0.0)
    assert [lin.factor(t, 10) for t in (0, 5, 7.5, 10)] == [1.0, 1.0, 0.5, 0.0]
    cos = T.LRSchedule("cosine", final=0.1)
    assert cos.factor(5, 10) == pytest.approx(0.55)
    assert T.LRSchedule("step", step_epochs=2, gamma=0.1).factor(4.5, 10) == pytest.approx(0.01)
    assert T.LRSchedule(warmup_epochs=2).factor(1, 10) == 0.5
    with pytest.raises(ConfigError, match="kind"):
        T.LRSchedule("exp")
