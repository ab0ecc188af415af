"""One user's attribution runs its products in one BLAS thread, and the pool is restored."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from anchorrec.analysis.one_thread import one_blas_thread


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_the_block_runs_in_one_blas_thread_and_the_pool_comes_back():
    before = _blas_threads()
    with one_blas_thread():
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
    with one_blas_thread():  # the second use reuses the process's lookup
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before


def test_a_blas_loaded_after_the_first_use_is_limited_too():
    with one_blas_thread():  # the libraries are looked up now
        pass
    import scipy.linalg  # noqa: F401  (another extension module: the lookup is redone)

    with one_blas_thread():
        assert all(n == 1 for n in _blas_threads())
