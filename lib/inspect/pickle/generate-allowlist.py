#!/usr/bin/python3
"""Writes allowlist-generated.ts: the exact classes (and the few reconstructor functions) of the ML
libraries installed here that a benign pickle may name.

Run with Debian's python3 (python3-sklearn, -scipy, -pandas, -statsmodels, -xgboost, -torch):
    /usr/bin/python3 lib/inspect/pickle/generate-allowlist.py > lib/inspect/pickle/allowlist-generated.ts

Only classes are listed wholesale: instantiating one of these runs the library's own constructor or
__setstate__, which never evaluates strings. Functions are listed only when they are pickle
reconstructors (Cython __pyx_unpickle_*, newObj, _unpickle_*, _new_*Index ...) or pure math named as data
(score functions, ufuncs). Modules that read files, run formulas or expressions, start servers or
ship test helpers are excluded, and so is any class built on a stdlib I/O, process or thread class.
"""
import importlib
import inspect
import io
import logging
import multiprocessing
import pkgutil
import re
import socketserver
import subprocess
import sys
import threading
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)

ROOTS = {
    "sklearn": [r"\.tests?(\.|$)", r"_testing", r"\.datasets", r"\.externals", r"estimator_checks", r"conftest",
                r"\._build_utils", r"__check_build", r"_min_dependencies", r"\.utils\._show_versions", r"\.utils\.parallel",
                r"\.utils\._joblib", r"\.utils\.fixes", r"\._config", r"\.utils\._mocking", r"\.utils\.validation"],
    "scipy.sparse": [r"\.tests?(\.|$)", r"\.linalg\._dsolve\._add_newdocs", r"\.csgraph\._validation"],
    "scipy.spatial": [r"\.tests?(\.|$)"],
    "scipy.interpolate": [r"\.tests?(\.|$)"],
    "scipy.stats": [r"\.tests?(\.|$)", r"_generate_pyx", r"\._unuran"],
    "statsmodels": [r"\.tests?(\.|$)", r"\.formula", r"\.iolib", r"\.datasets", r"\.sandbox", r"\.tools\.web", r"conftest",
                    r"\.api$", r"\.graphics", r"\.tools\.docstring", r"\.tools\.print_version", r"_version", r"\.compat",
                    r"\.tools\.rootfinding", r"\.base\._penalized"],
    "pandas": [r"\.tests?(\.|$)", r"\.io(\.|$)", r"\.core\.computation", r"\.plotting", r"_testing", r"\.util", r"conftest",
               r"\.api", r"\.compat", r"_config", r"\.core\.config_init", r"_version", r"\.core\.interchange", r"\.core\.accessor",
               r"\._libs\.parsers", r"\.core\.apply", r"\._libs\.json", r"\._libs\.writers"],
    "xgboost": [r"\.dask", r"\.spark", r"\.tracker", r"\.collective", r"\.rabit", r"\.testing", r"\.federated", r"\.plotting", r"\.libpath"],
    "torch.nn.modules": [],
    "torch.optim": [r"\._multi_tensor", r"swa_utils"],
}

# Stdlib bases whose subclasses open files, sockets, processes or threads when built or collected.
RISKY_BASES = (io.IOBase, subprocess.Popen, threading.Thread, logging.Handler, socketserver.BaseServer, multiprocessing.process.BaseProcess)

# Classes that read files or URLs when constructed (xgboost.DMatrix("path") loads data from disk).
LOADS_ON_INIT = re.compile(r"DMatrix|DataIter|Iterator$|Reader$|Loader$")

RECONSTRUCTOR = re.compile(r"^(__pyx_unpickle_\w+|newObj|_unpickle\w*|_new_\w+|_rebuild\w*|__\w+_ctor|_reconstruct\w*|_timedelta_unpickle|__nat_unpickle)$")

# Plain functions that benign estimators keep as parameters (score functions, kernels, distances, pooling).
DATA_FUNCTION_MODULES = [
    "sklearn.feature_selection._univariate_selection", "sklearn.feature_selection._mutual_info",
    "sklearn.metrics._regression", "sklearn.metrics._classification", "sklearn.metrics._ranking", "sklearn.metrics.pairwise",
    "sklearn.cluster._kmeans", "sklearn.neighbors._base",
]


def module_names(root, exclude):
    mod = importlib.import_module(root)
    yield root
    if not hasattr(mod, "__path__"):
        return
    for info in pkgutil.walk_packages(mod.__path__, root + ".", onerror=lambda _n: None):
        if any(re.search(p, info.name[len(root):]) for p in exclude):
            continue
        yield info.name


def main():
    allowed = {}
    versions = {}
    for root, exclude in ROOTS.items():
        top = importlib.import_module(root.split(".")[0])
        versions[root.split(".")[0]] = getattr(top, "__version__", "?")
        for name in module_names(root, exclude):
            try:
                mod = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - optional submodules (missing extras) are simply not listed
                continue
            for attr, obj in vars(mod).items():
                if getattr(obj, "__module__", None) != name:
                    continue
                if inspect.isclass(obj):
                    if issubclass(obj, RISKY_BASES) or LOADS_ON_INIT.search(attr):
                        continue
                    allowed.setdefault(name, set()).add(attr)
                elif callable(obj) and RECONSTRUCTOR.match(attr):
                    allowed.setdefault(name, set()).add(attr)
    for name in DATA_FUNCTION_MODULES:
        mod = importlib.import_module(name)
        for attr, obj in vars(mod).items():
            if inspect.isfunction(obj) and obj.__module__ == name and not attr.startswith("_"):
                allowed.setdefault(name, set()).add(attr)
    out = sys.stdout
    out.write("// Generated by generate-allowlist.py (Debian's python3: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ").\n")
    out.write("// Do not edit by hand: rerun the generator. Each value is a space-separated list of exact names in that module.\n")
    out.write("export const GENERATED_ALLOWLIST: Readonly<Record<string, string>> = {\n")
    for name in sorted(allowed):
        out.write(f'  "{name}": "{" ".join(sorted(allowed[name]))}",\n')
    out.write("};\n")


if __name__ == "__main__":
    main()
