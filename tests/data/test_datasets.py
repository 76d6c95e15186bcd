"""Built-in datasets: shapes, labels, geometry, determinism, split, features."""
import numpy as np
import pytest

from workbench.config import CLASSIFICATION_2D, GATES, REGRESSION_1D, REGRESSION_2D
from workbench.data import LINEAR_SLOPE, DataError, Dataset, load_dataset, make_raw


def cfg(name, **kw):
    base = {"name": name, "n_samples": 200, "noise": 0.1, "test_fraction": 0.3,
            "features": None, "scale": 1.0, "noise_features": 0, "path": None}
    base.update(kw)
    return base


def all_x(ds):
    return np.vstack([ds.X_train, ds.X_test])


def all_raw(ds):
    return np.vstack([ds.raw_train, ds.raw_test])


def all_y(ds):
    return np.concatenate([ds.y_train, ds.y_test])


@pytest.mark.parametrize("name", CLASSIFICATION_2D + GATES)
def test_2d_classification_shapes_and_labels(name):
    ds = load_dataset(cfg(name), seed=0)
    assert isinstance(ds, Dataset)
    assert ds.task == "classification" and ds.n_classes == 2 and ds.raw_dim == 2
    assert ds.X_train.shape == (140, 2) and ds.X_test.shape == (60, 2)
    assert ds.raw_train.shape == (140, 2) and ds.raw_test.shape == (60, 2)
    assert ds.y_train.shape == (140,) and ds.y_train.dtype == np.int64
    assert ds.X_train.dtype == np.float64 and ds.n_features == 2
    assert ds.feature_names == ["x1", "x2"]
    y = all_y(ds)
    assert set(np.unique(y)) == {0, 1}
    # Balanced up to the label noise that 0.1 allows (xor_gate and linear flip a few).
    assert 0.4 <= y.mean() <= 0.6 or name in ("and_gate", "or_gate", "nand_gate")
    assert np.all(np.abs(all_raw(ds)) < 7)


@pytest.mark.parametrize("name", CLASSIFICATION_2D)
def test_exact_balance_at_noise_zero(name):
    y = all_y(load_dataset(cfg(name, n_samples=201, noise=0.0), seed=3))
    assert y.size == 201 and y.sum() == 101


@pytest.mark.parametrize("name", REGRESSION_1D + REGRESSION_2D)
def test_regression_shapes(name):
    ds = load_dataset(cfg(name), seed=0)
    dim = 1 if name in REGRESSION_1D else 2
    assert ds.task == "regression" and ds.n_classes is None and ds.raw_dim == dim
    assert ds.X_train.shape == (140, dim) and ds.y_train.shape == (140, 1)
    assert ds.y_test.shape == (60, 1) and ds.y_train.dtype == np.float64
    assert np.all(np.abs(all_y(ds)) < 5)


def test_regression_formulas_at_noise_zero():
    ds = load_dataset(cfg("reg_line", noise=0.0), seed=1)
    x = all_raw(ds)
    assert np.all(np.abs(x) <= 5)
    np.testing.assert_allclose(all_y(ds), 0.8 * x + 0.2)
    ds = load_dataset(cfg("reg_sine", noise=0.0), seed=1)
    x = all_raw(ds)
    assert np.all(np.abs(x) <= 6)
    np.testing.assert_allclose(all_y(ds), np.sin(x))
    ds = load_dataset(cfg("reg_plane", noise=0.0), seed=1)
    np.testing.assert_allclose(all_y(ds)[:, 0], all_raw(ds).sum(axis=1) / 10)
    ds = load_dataset(cfg("reg_gauss", noise=0.0, n_samples=2000), seed=1)
    y = all_y(ds)
    assert y.min() >= -1 and y.max() <= 1 and y.min() < -0.9 and y.max() > 0.9
    # The bump at (0, 2.5) is negative, the one at (4, 2.5) positive.
    near = lambda c: np.hypot(*(all_raw(ds) - c).T) < 0.5
    assert np.all(y[near([0, 2.5])] < 0) and np.all(y[near([4, 2.5])] > 0)


def test_reg_line_noise_std():
    ds = load_dataset(cfg("reg_line", noise=0.5, n_samples=4000), seed=0)
    resid = all_y(ds) - (0.8 * all_raw(ds) + 0.2)
    assert abs(resid.std() - 0.5) < 0.03


def test_circle_radii_and_labels():
    ds = load_dataset(cfg("circle", noise=0.0), seed=0)
    r = np.hypot(*all_raw(ds).T)
    y = all_y(ds)
    assert np.all(r[y == 1] <= 2.5) and np.all((r[y == 0] >= 3.5) & (r[y == 0] <= 5))
    # With noise the points stay on their radii (the playground's rule) but some labels
    # flip, so a few outer points can be class 1.
    ds = load_dataset(cfg("circle", noise=0.5, n_samples=1000), seed=0)
    r = np.hypot(*all_raw(ds).T)
    assert np.all((r <= 2.5) | ((r >= 3.5) & (r <= 5)))
    assert 0 < np.sum((r > 3) & (all_y(ds) == 1)) < 300


def test_xor_rule_and_padding():
    ds = load_dataset(cfg("xor", noise=0.0, n_samples=500), seed=0)
    X, y = all_raw(ds), all_y(ds)
    assert np.all(np.abs(X) >= 0.3) and np.all(np.abs(X) <= 5)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))
    assert len({(a, b) for a, b in np.sign(X)}) == 4  # all four quadrants used


def test_linear_rule():
    ds = load_dataset(cfg("linear", noise=0.0, n_samples=500), seed=0)
    X, y = all_raw(ds), all_y(ds)
    assert np.all(np.abs(X) <= 5)
    np.testing.assert_array_equal(y, (X[:, 1] > LINEAR_SLOPE * X[:, 0]).astype(int))
    noisy = load_dataset(cfg("linear", noise=0.3, n_samples=500), seed=0)
    X, y = all_raw(noisy), all_y(noisy)
    wrong = y != (X[:, 1] > LINEAR_SLOPE * X[:, 0])
    assert 0 < wrong.mean() < 0.3


def test_gaussian_centres_and_spread():
    ds = load_dataset(cfg("gaussian", noise=0.0, n_samples=4000), seed=0)
    X, y = all_raw(ds), all_y(ds)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(X.std(axis=0) ** 2 - 4, 0.5, atol=0.1)  # variance 0.5
    X = all_raw(load_dataset(cfg("gaussian", noise=0.5, n_samples=4000), seed=0))
    np.testing.assert_allclose(X.std(axis=0) ** 2 - 4, 4.0, atol=0.4)  # variance 4


def test_spiral_noise_free_arms():
    ds = load_dataset(cfg("spiral", noise=0.0, n_samples=100), seed=0)
    X, y = all_raw(ds), all_y(ds)
    r = np.hypot(*X.T)
    assert r.max() < 5 and r.min() == 0
    # The two arms are point reflections of each other.
    a1 = X[y == 1][np.argsort(r[y == 1])]
    a0 = X[y == 0][np.argsort(r[y == 0])]
    np.testing.assert_allclose(a1, -a0, atol=1e-12)


def test_moons_range():
    X = all_raw(load_dataset(cfg("moons", noise=0.0), seed=0))
    assert -5.01 < X[:, 0].min() < -4 and 4 < X[:, 0].max() < 5.01
    assert X[:, 1].min() > -2.51 and X[:, 1].max() < 2.51


@pytest.mark.parametrize("name,table", [("and_gate", [0, 0, 0, 1]), ("or_gate", [0, 1, 1, 1]),
                                        ("nand_gate", [1, 1, 1, 0]),
                                        ("xor_gate", [0, 1, 1, 0])])
def test_gates_exact_without_noise(name, table):
    ds = load_dataset(cfg(name, noise=0.0, test_fraction=0.5, n_samples=999), seed=7)
    np.testing.assert_array_equal(ds.raw_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y_train, table)
    assert ds.X_test.shape == (0, 2) and ds.y_test.shape == (0,)


def test_gates_with_noise_are_noisy_copies():
    ds = load_dataset(cfg("xor_gate", noise=0.1, n_samples=400), seed=0)
    X, y = all_raw(ds), all_y(ds)
    assert X.shape == (400, 2) and ds.X_test.shape == (120, 2)
    corner = np.round(X).clip(0, 1)
    np.testing.assert_array_equal(y, (corner[:, 0] != corner[:, 1]).astype(int))
    assert 0.05 < np.abs(X - corner).std() < 0.15


def test_digits():
    ds = load_dataset(cfg("digits", n_samples=5, noise=3.0), seed=0)
    assert ds.X_train.shape[0] + ds.X_test.shape[0] == 1797
    assert ds.X_test.shape[0] == 539
    assert ds.n_features == 64 and ds.raw_dim == 64 and ds.n_classes == 10
    X = all_x(ds)
    assert X.min() == 0 and X.max() == 1
    assert set(np.unique(all_y(ds))) == set(range(10))
    assert ds.feature_spec is None
    # Features are ignored for digits; scale still applies.
    ds2 = load_dataset(cfg("digits", features=["x1^2"], scale=2.0), seed=0)
    np.testing.assert_array_equal(ds2.X_train, 2 * ds.X_train)


@pytest.mark.parametrize("name", CLASSIFICATION_2D + GATES + REGRESSION_1D + REGRESSION_2D)
def test_determinism(name):
    c = cfg(name, noise_features=2)
    a, b = load_dataset(c, seed=5), load_dataset(c, seed=5)
    for field in ("X_train", "y_train", "X_test", "y_test", "raw_train", "raw_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    other = load_dataset(c, seed=6)
    assert not np.array_equal(a.X_train, other.X_train)


def test_streams_are_independent():
    # Adding noise columns must not change the points or the split.
    a = load_dataset(cfg("spiral"), seed=0)
    b = load_dataset(cfg("spiral", noise_features=3), seed=0)
    np.testing.assert_array_equal(a.raw_train, b.raw_train)
    np.testing.assert_array_equal(a.X_train, b.X_train[:, :2])


def test_make_raw():
    X, y = make_raw("circle", 10, 0.0, np.random.default_rng(0))
    assert X.shape == (10, 2) and y.shape == (10,) and y.sum() == 5
    X, y = make_raw("reg_sine", 7, 0.1, np.random.default_rng(0))
    assert X.shape == (7, 1) and y.shape == (7, 1)
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        make_raw("nope", 10, 0.0, np.random.default_rng(0))


@pytest.mark.parametrize("frac,n_test", [(0.0, 0), (0.3, 60), (0.5, 100), (0.999, 199)])
def test_split_sizes(frac, n_test):
    ds = load_dataset(cfg("circle", test_fraction=frac), seed=0)
    assert ds.X_test.shape == (n_test, 2) and ds.y_test.shape == (n_test,)
    assert ds.raw_test.shape == (n_test, 2)
    assert ds.X_train.shape[0] == 200 - n_test


def test_split_is_a_permutation():
    ds = load_dataset(cfg("reg_line", test_fraction=0.25), seed=0)
    full = make_raw("reg_line", 200, 0.1, np.random.default_rng([0, 1]))[0]
    got = np.sort(all_raw(ds)[:, 0])
    np.testing.assert_array_equal(got, np.sort(full[:, 0]))
    ds0 = load_dataset(cfg("reg_line", test_fraction=0.0), seed=0)
    assert ds0.X_test.shape == (0, 1) and ds0.y_test.shape == (0, 1)


def test_features_2d():
    feats = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    ds = load_dataset(cfg("xor", features=feats, scale=3.0), seed=0)
    r = ds.raw_train
    assert ds.feature_names == feats
    # scale multiplies each feature column after it is computed: x1^2 -> 3 * x1^2.
    expect = 3.0 * np.column_stack([r[:, 0], r[:, 1], r[:, 0] ** 2, r[:, 1] ** 2,
                                    r[:, 0] * r[:, 1], np.sin(r[:, 0]), np.sin(r[:, 1])])
    np.testing.assert_allclose(ds.X_train, expect)
    np.testing.assert_array_equal(ds.raw_train * 3.0, ds.X_train[:, :2])


def test_poly_features_and_duplicates():
    ds = load_dataset(cfg("circle", features=["x1*x2", {"poly": 3}, "x1"]), seed=0)
    assert ds.feature_names == ["x1*x2", "x1", "x2", "x1^2", "x2^2", "x1^3", "x1^2*x2",
                                "x1*x2^2", "x2^3"]
    r = ds.raw_train
    np.testing.assert_allclose(ds.X_train[:, 6], r[:, 0] ** 2 * r[:, 1])
    np.testing.assert_allclose(ds.X_train[:, 4], r[:, 1] ** 2)
    np.testing.assert_allclose(ds.X_train[:, 0], r[:, 0] * r[:, 1])


def test_features_1d():
    ds = load_dataset(cfg("reg_sine", features=["sin(x1)", {"poly": 3}, "x1^2"]), seed=0)
    assert ds.feature_names == ["sin(x1)", "x1", "x1^2", "x1^3"]
    x = ds.raw_train[:, 0]
    np.testing.assert_allclose(ds.X_train, np.column_stack([np.sin(x), x, x ** 2, x ** 3]))
    with pytest.raises(DataError, match="x2"):
        load_dataset(cfg("reg_line", features=["x2"]), seed=0)


def test_noise_features():
    ds = load_dataset(cfg("gaussian", n_samples=2000, features=["x1", "x1^2"],
                          noise_features=3, scale=2.0), seed=0)
    assert ds.feature_names == ["x1", "x1^2", "noise1", "noise2", "noise3"]
    X = all_x(ds)
    real_std = X[:, :2].std(axis=0).mean()
    assert ds.noise_std == pytest.approx(real_std)
    np.testing.assert_allclose(X[:, 2:].std(axis=0), real_std, rtol=0.06)
    np.testing.assert_allclose(X[:, 2:].mean(axis=0), 0, atol=0.1 * real_std)
    # The noise is unrelated to the labels and to the real columns.
    corr = np.corrcoef(np.column_stack([X, all_y(ds)]).T)
    assert np.all(np.abs(corr[2:5, [0, 1, 5]]) < 0.1)


def test_transform_reproduces_inputs():
    ds = load_dataset(cfg("moons", features=[{"poly": 2}, "sin(x2)"], scale=0.5,
                          noise_features=2), seed=0)
    T = ds.transform(ds.raw_train)
    assert T.shape == ds.X_train.shape
    np.testing.assert_array_equal(T[:, :-2], ds.X_train[:, :-2])
    assert np.all(T[:, -2:] == 0)
    np.testing.assert_array_equal(ds.transform(ds.raw_test)[:, :-2], ds.X_test[:, :-2])
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 5), np.linspace(-6, 6, 4)), -1)
    assert ds.transform(grid.reshape(-1, 2)).shape == (20, ds.n_features)
    with pytest.raises(DataError, match=r"shape \(m, 2\)"):
        ds.transform(np.zeros((3, 3)))
    ds1 = load_dataset(cfg("reg_line", features=["x1", "x1^2"]), seed=0)
    np.testing.assert_array_equal(ds1.transform(ds1.raw_train[:, 0]), ds1.X_train)


def test_with_points():
    ds = load_dataset(cfg("xor", features=["x1", "x1*x2"], noise_features=1), seed=0)
    pts = np.array([[1.0, 2.0], [-1.0, 3.0], [2.0, -2.0]])
    new = ds.with_points(pts, np.array([1, 0, 0]))
    assert new.X_train.shape == (3, 3) and new.y_train.dtype == np.int64
    np.testing.assert_array_equal(new.raw_train, pts)
    np.testing.assert_allclose(new.X_train[:, :2], [[1, 2], [-1, -3], [2, -4]])
    assert np.all(new.X_train[:, 2] != 0)
    np.testing.assert_array_equal(new.X_test, ds.X_test)
    again = ds.with_points(pts, [1, 0, 0])
    np.testing.assert_array_equal(again.X_train, new.X_train)
    with pytest.raises(DataError, match="labels"):
        ds.with_points(pts, [0, 1, 2])
    with pytest.raises(DataError, match="2-D classification"):
        load_dataset(cfg("reg_plane"), seed=0).with_points(pts, [0, 1, 0])


def test_unknown_dataset_and_missing_csv_path():
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset(cfg("bogus"), seed=0)
    with pytest.raises(DataError, match="data.path"):
        load_dataset(cfg("csv"), seed=0)
