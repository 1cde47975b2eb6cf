"""autograd.trace and `glasstorch trace`: the steps, the numbers, and the HTML page in headless chromium."""
import argparse
import io
import os
import shutil

import numpy as np
import pytest

import glasstorch
from glasstorch.autograd import trace
from glasstorch.teaching import trace_command


def _cli(*argv):
    parser = argparse.ArgumentParser()
    trace_command.add_arguments(parser)
    out = io.StringIO()
    return trace_command.main(parser.parse_args(list(argv)), out=out), out.getvalue()


def test_notes_autograd_steps_and_numbers():
    code, out = _cli("notes-autograd")
    assert code == 0
    steps = [line for line in out.splitlines() if line.startswith("step ")]
    assert [s.split()[2] for s in steps] == ["MeanBackward0", "MulBackward0", "AddBackward0"]
    assert "out = Mean(z (2, 2))" in steps[0]
    assert "-> dL/dz = [[0.25, 0.25], [0.25, 0.25]]" in out
    assert "-> dL/dy = [[0.5, 0.5], [0.5, 0.5]]" in out
    assert "local derivative: y = a * b;" in out  # the first line of the op's docstring
    assert out.strip().endswith("x.grad = [[0.5, 0.5], [0.5, 0.5]]")


def test_a_tensor_used_twice_accumulates_and_matches_backward():
    a = glasstorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = trace((a * a + a.exp()).sum(), names={"a": a})
    sent_to_a = [(s.op, x.accumulates) for s in t.steps for x in s.sent if x.target == "a"]
    assert [acc for _, acc in sent_to_a] == [False, True, True]  # the first one assigns, then +=
    total = sum(x.grad for s in t.steps for x in s.sent if x.target == "a")
    np.testing.assert_allclose(total, 2 * np.array([1, 2, 3]) + np.exp([1, 2, 3]))
    np.testing.assert_allclose(a.grad.numpy(), total)
    assert "dL/da +=" in t.text()


def test_large_gradients_are_summarised_and_markdown():
    x = glasstorch.randn(10, 10, requires_grad=True)
    t = trace((x * 3).sum(), names={"x": x})
    assert "<shape (10, 10), norm 30>" in t.text()
    assert t.markdown().startswith("Backward of `out`") and "| 2 | `MulBackward0`" in t.markdown()


@pytest.mark.parametrize("example", ["diamond", "tiny-cnn", "lstm-step"])
def test_other_examples_agree_with_backward(example):
    if example == "lstm-step" and not hasattr(glasstorch.nn, "LSTMCell"):
        pytest.skip("no nn.LSTMCell in this glasstorch")
    root, names = trace_command.EXAMPLES[example]()
    leaves = [t for t in names.values() if t.grad_fn is None and t.requires_grad]
    expected = glasstorch.autograd.grad(root, leaves, retain_graph=True)
    recorded = trace(root, names=names)
    assert len(recorded.steps) >= 5
    for leaf, g in zip(leaves, expected):
        np.testing.assert_allclose(leaf.grad.numpy(), g.numpy(), rtol=1e-6)


def test_lstm_step_runs_or_says_why():
    if hasattr(glasstorch.nn, "LSTMCell"):
        code, out = _cli("lstm-step")
        assert code == 0 and "cell.weight_ih.grad" in out
    else:
        with pytest.raises(SystemExit, match="no nn.LSTMCell"):
            _cli("lstm-step")


def test_script(tmp_path):
    script = tmp_path / "mine.py"
    script.write_text("import glasstorch as torch\nw = torch.tensor([2.0], requires_grad=True)\n"
                      "loss = (w * w).sum()\n")
    code, out = _cli("--script", str(script))
    assert code == 0 and out.strip().endswith("w.grad = [4.]")


def _browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    driver_path = shutil.which("chromedriver")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if driver_path is None or binary is None:
        pytest.skip("no chromium/chromedriver on this machine (.ci/run installs them as root on Debian)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,800"):
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_html_page_in_headless_chromium(tmp_path):
    page = tmp_path / "trace.html"
    code, out = _cli("diamond", "--format", "html", "--out", str(page))
    assert code == 0 and "wrote" in out
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text  # offline
    driver = _browser()
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        driver.get(page.as_uri())
        steps = driver.find_elements(By.CSS_SELECTOR, "li.step")
        assert len(steps) == 14
        active = lambda: driver.execute_script(  # noqa: E731
            "return [document.querySelector('g.node.active').id, document.querySelector('li.step.active')"
            ".dataset.node, document.querySelectorAll('g.node.target').length, "
            "document.querySelectorAll('line.edge.active').length]")
        node, step_node, targets, edges = active()
        assert node == step_node == "n0"  # the first step: the output's node
        for i in (4, 9, 2):
            steps[i].click()
            node, step_node, targets, edges = active()
            assert node == step_node == steps[i].get_attribute("data-node") and node != "n0"
            assert targets == edges == len(steps[i].get_attribute("data-targets").split())
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.ARROW_DOWN)
        assert active()[0] == steps[3].get_attribute("data-node")
        body.send_keys(Keys.ARROW_UP)
        body.send_keys(Keys.ARROW_UP)
        assert active()[0] == steps[1].get_attribute("data-node")
        steps[6].click()
        shot = tmp_path / "trace-page.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
    finally:
        driver.quit()
