"""Each optimizer step against its formula worked by hand (Keras semantics)."""
import numpy as np
import pytest

from workbench.core import SGD, Adagrad, Adam, RMSprop

W0 = np.array([1.0, -2.0])
G1 = np.array([0.5, 0.1])
G2 = np.array([-0.2, 0.4])


def two_steps(opt):
    w = W0.copy()
    opt.step(w, G1)
    w1 = w.copy()
    opt.step(w, G2)
    return w1, w


def test_plain_sgd():
    w1, w2 = two_steps(SGD(lr=0.1))
    assert np.allclose(w1, [1.0 - 0.05, -2.0 - 0.01], rtol=0, atol=1e-15)
    assert np.allclose(w2, [0.95 + 0.02, -2.01 - 0.04], rtol=0, atol=1e-15)


def test_sgd_momentum():
    # v1 = -0.1 g1 = [-0.05, -0.01]; w1 = w0 + v1
    # v2 = 0.9 v1 - 0.1 g2 = [-0.045 + 0.02, -0.009 - 0.04] = [-0.025, -0.049]
    w1, w2 = two_steps(SGD(lr=0.1, momentum=0.9))
    assert np.allclose(w1, [0.95, -2.01], atol=1e-15)
    assert np.allclose(w2, [0.95 - 0.025, -2.01 - 0.049], atol=1e-15)


def test_sgd_nesterov():
    # w += momentum v - lr g with the updated v
    # step 1: v1 = [-0.05, -0.01]; w1 = w0 + 0.9 v1 - 0.1 g1 = [1 - 0.045 - 0.05, -2 - 0.009 - 0.01]
    # step 2: v2 = [-0.025, -0.049]; w2 = w1 + 0.9 v2 - 0.1 g2 = w1 + [-0.0225 + 0.02, -0.0441 - 0.04]
    w1, w2 = two_steps(SGD(lr=0.1, momentum=0.9, nesterov=True))
    assert np.allclose(w1, [0.905, -2.019], atol=1e-15)
    assert np.allclose(w2, [0.905 - 0.0025, -2.019 - 0.0841], atol=1e-15)


def test_sgd_decay():
    # lr_t = lr / (1 + decay t), t = 0 for the first update
    w1, w2 = two_steps(SGD(lr=0.1, decay=0.5))
    assert np.allclose(w1, W0 - 0.1 * G1, atol=1e-15)
    assert np.allclose(w2, w1 - (0.1 / 1.5) * G2, atol=1e-15)
    opt = SGD(lr=0.1, decay=0.5)
    opt.t = 4
    assert opt.current_lr() == pytest.approx(0.1 / 3)


def test_adagrad():
    # a starts at 0.1: a1 = 0.1 + g1^2; w1 = w0 - lr g1 / (sqrt(a1) + eps)
    eps = 1e-7
    w1, w2 = two_steps(Adagrad(lr=0.5, epsilon=eps))
    a1 = 0.1 + G1 ** 2
    e1 = W0 - 0.5 * G1 / (np.sqrt(a1) + eps)
    a2 = a1 + G2 ** 2
    assert np.allclose(w1, e1, atol=1e-15)
    assert np.allclose(w2, e1 - 0.5 * G2 / (np.sqrt(a2) + eps), atol=1e-15)
    # by hand for the first coordinate: a1 = 0.35, step = 0.25 / sqrt(0.35)
    assert w1[0] == pytest.approx(1.0 - 0.25 / np.sqrt(0.35), abs=1e-6)


def test_rmsprop():
    eps = 1e-7
    w1, w2 = two_steps(RMSprop(lr=0.01, rho=0.9, epsilon=eps))
    a1 = 0.1 * G1 ** 2
    # first coordinate: a1 = 0.025, step = 0.01 * 0.5 / sqrt(0.025) = 0.0316227...
    assert w1[0] == pytest.approx(1.0 - 0.005 / np.sqrt(0.025), abs=1e-6)
    a2 = 0.9 * a1 + 0.1 * G2 ** 2
    e1 = W0 - 0.01 * G1 / (np.sqrt(a1) + eps)
    assert np.allclose(w2, e1 - 0.01 * G2 / (np.sqrt(a2) + eps), atol=1e-15)


def test_adam():
    # Keras: lr_t = lr sqrt(1 - b2^k) / (1 - b1^k), k = t + 1
    lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-7
    w1, w2 = two_steps(Adam(lr=lr))
    m1 = (1 - b1) * G1
    v1 = (1 - b2) * G1 ** 2
    e1 = W0 - lr * np.sqrt(1 - b2) / (1 - b1) * m1 / (np.sqrt(v1) + eps)
    # the first Adam step moves every coordinate by about lr
    assert np.allclose(np.abs(w1 - W0), lr, rtol=1e-3)
    assert np.allclose(w1, e1, atol=1e-15)
    m2 = b1 * m1 + (1 - b1) * G2
    v2 = b2 * v1 + (1 - b2) * G2 ** 2
    e2 = e1 - lr * np.sqrt(1 - b2 ** 2) / (1 - b1 ** 2) * m2 / (np.sqrt(v2) + eps)
    assert np.allclose(w2, e2, atol=1e-15)
