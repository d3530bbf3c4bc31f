"""benchmarks/pen_eval.py: pen digits replayed as mouse strokes through the real Draw tab read like the fast path."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from mnist_studio.data.strokes import StrokeDigit
from mnist_studio.gui.draw.panel import DrawPanel
from mnist_studio.gui.session import StudioSession

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pen_eval():
    spec = importlib.util.spec_from_file_location("pen_eval", ROOT / "benchmarks" / "pen_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def known_digits():
    """A tablet-sized 1 (one stroke), 0 (a ring) and 7 (two strokes), in the dev set's units."""
    one = StrokeDigit(1, [[(250, 100 + 10 * i) for i in range(21)]], {"writer": "a"})
    ring = [(250 + 60 * math.sin(t), 200 - 90 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 40)]
    zero = StrokeDigit(0, [ring], {"writer": "b"})
    seven = StrokeDigit(7, [[(180, 100), (300, 100), (280, 150), (240, 230), (210, 300)]], {"writer": "b"})
    return [one, zero, seven]


def test_replay_on_the_real_pad_reads_known_drawings_like_the_fast_path(qtbot, small_model, pen_eval):
    session = StudioSession()
    session.set_model(small_model, source="test")
    panel = DrawPanel(session)
    qtbot.addWidget(panel)
    panel.resize(1200, 820)
    panel.show()
    qtbot.waitExposed(panel)
    digits = known_digits()
    answers, seen = pen_eval.replay_on_pad(small_model, digits, seed=3, panel=panel)
    assert answers.tolist() == [1, 0, 7]
    assert len(panel.pad.strokes) == 1 and len(panel.pad.strokes[0]) == 5  # the 7's points, as mouse moves
    fast = pen_eval.fast_images(digits, seed=3, side=panel.pad.square().width())
    np.testing.assert_allclose(seen, fast, atol=1e-6)  # the widget saw exactly what the fast path computes
    s = pen_eval.scores(digits, np.array([1, 0, 1]))
    assert s["accuracy"] == pytest.approx(2 / 3) and s["per_writer"] == {"a": 1.0, "b": 0.5}
    assert s["per_class"][7] == 0.0 and s["confusions"] == [[7, 1, 1]]


def test_placement_is_seeded_sized_and_kept_on_the_pad(pen_eval):
    d = known_digits()[2]
    a = pen_eval.placements([d] * 20, seed=1)
    b = pen_eval.placements([d] * 20, seed=1)
    assert a == b and a[0] != a[1]  # seeded, and each digit placed differently
    for strokes in a:
        pts = np.array([p for s in strokes for p in s])
        assert pts.min() >= 0 and pts.max() <= pen_eval.PAD_SIDE - 1
        assert np.ptp(pts[:, 1]) == pytest.approx(0.6 * pen_eval.PAD_SIDE, abs=1.5)
        assert abs(pts[:, 1].mean() - 152) < 0.08 * 304 + 40
    small = pen_eval.placements([d], seed=1, height=0.2, spread=0.35)[0]
    assert np.ptp(np.array([p for s in small for p in s])[:, 1]) == pytest.approx(0.2 * 304, abs=1.5)


def test_misread_grid_draws_each_error(tmp_path, pen_eval):
    digits = known_digits()
    seen = np.zeros((3, 28, 28), np.float32)
    seen[:, 10:18, 12:16] = 1.0
    n = pen_eval.misread_grid(tmp_path / "g.png", digits, np.array([1, 6, 2]), seen, cols=2)
    from PIL import Image

    img = np.asarray(Image.open(tmp_path / "g.png"))
    assert n == 2 and img.shape[1] == 2 * (2 * 84 + 6 + 12)
    assert img.shape[0] == 84 + 14 + 12  # one row of two misread digits
    assert img[6:90, 6 + 84 + 6:6 + 2 * 84 + 6].max() == 255  # the network's input is drawn, full white
