import type { GlobalRef } from "../types";

export type GlobalVerdict = GlobalRef["verdict"];

// Python 3 unpicklers remap Python 2 module names (fix_imports), so rules must see the mapped name.
const PY2_MODULES: Record<string, string> = {
  __builtin__: "builtins",
  exceptions: "builtins",
  copy_reg: "copyreg",
  cPickle: "pickle",
  commands: "subprocess",
  thread: "_thread",
  dummy_thread: "_dummy_thread",
  Queue: "queue",
  SocketServer: "socketserver",
  ConfigParser: "configparser",
  repr: "reprlib",
  StringIO: "io",
  cStringIO: "io",
  UserDict: "collections",
  UserList: "collections",
  UserString: "collections",
  urllib2: "urllib.request",
  urlparse: "urllib.parse",
  httplib: "http.client",
  cookielib: "http.cookiejar",
  BaseHTTPServer: "http.server",
  SimpleHTTPServer: "http.server",
  CGIHTTPServer: "http.server",
  xmlrpclib: "xmlrpc.client",
  _winreg: "winreg",
  __main__: "__main__",
};

/** Modules where every name is dangerous (code execution, processes, files, network, interpreter state). */
const DANGEROUS_MODULES = new Set([
  "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "_posixsubprocess", "sys", "importlib", "imp",
  "inspect", "runpy", "webbrowser", "socket", "_socket", "socketserver", "shutil", "pty", "marshal", "code",
  "codeop", "ctypes", "_ctypes", "cffi", "pickle", "_pickle", "cloudpickle", "dill", "shelve", "requests",
  "urllib", "urllib3", "http", "httpx", "aiohttp", "ftplib", "smtplib", "telnetlib", "poplib", "imaplib",
  "nntplib", "xmlrpc", "asyncio", "multiprocessing", "concurrent", "signal", "tempfile", "threading",
  "_thread", "pdb", "bdb", "timeit", "profile", "cProfile", "trace", "pydoc", "pkgutil", "zipimport",
  "site", "venv", "ensurepip", "pip", "setuptools", "distutils", "pathlib",
  "glob", "fileinput", "tarfile", "zipfile", "sqlite3", "mmap", "resource", "fcntl", "termios", "pwd", "grp",
  "spwd", "atexit", "gc", "platform", "ssl", "select", "selectors", "paramiko", "pexpect", "winreg",
  "_winapi", "msvcrt", "ptrace", "joblib.parallel", "torch.hub", "torch._inductor", "numpy.f2py",
  "numpy.distutils", "numpy.ctypeslib", "pandas.io", "pandas.core.computation", "keras.utils", "tensorflow.io", "dask", "ray",
  "IPython", "jupyter_client", "nbconvert", "mlflow", "wandb", "boto3", "botocore", "google.cloud",
  "sklearn.utils._testing", "sklearn.utils.estimator_checks", "sklearn.externals", "sklearn.datasets",
  "statsmodels.iolib", "statsmodels.tools.web", "statsmodels.datasets", "functools.partialmethod",
]);

/** Single names that can run code or reach the system even though their module is otherwise harmless. */
const DANGEROUS_NAMES = new Set([
  "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr",
  "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.globals", "builtins.locals",
  "builtins.vars", "builtins.input", "builtins.breakpoint", "builtins.execfile", "builtins.apply",
  "builtins.file", "builtins.reload", "builtins.help", "builtins.exit", "builtins.quit",
  "builtins.__loader__", "builtins.__build_class__", "uuid._get_command_stdout", "uuid._popen",
  "types.CodeType", "types.FunctionType", "types.LambdaType", "types.MethodType", "types.ModuleType",
  "types.BuiltinFunctionType", "types.new_class", "types.CellType",
  "operator.attrgetter", "operator.itemgetter", "operator.methodcaller",
  "functools.partial", "functools.reduce",
  "codecs.open", "codecs.getreader", "codecs.getwriter", "codecs.EncodedFile",
  "logging.config.listen", "logging.config.fileConfig", "logging.config.dictConfig",
  "torch.load", "torch.serialization.load", "torch.storage._load_from_bytes", "torch.jit.load",
  "torch.package.PackageImporter", "torch._C._jit_pass", "torch.utils.cpp_extension.load",
  "torch.utils.cpp_extension.load_inline", "torch.ops.load_library",
  "numpy.load", "numpy.lib.npyio.load", "numpy.loadtxt", "numpy.fromfile", "numpy.memmap",
  "numpy.core.memmap.memmap", "numpy.testing._private.utils.runstring", "numpy.testing.runstring",
  "pandas.read_pickle", "pandas.read_csv", "pandas.eval", "pandas.core.computation.eval.eval",
  "joblib.load", "joblib.numpy_pickle.load", "joblib.dump",
  "keras.models.load_model", "tensorflow.keras.models.load_model",
]);

// io/_io: file handles are dangerous, in-memory buffers are merely unusual.
const IO_MODULES = new Set(["io", "_io"]);
const IO_HARMLESS = new Set(["BytesIO", "StringIO"]);

/** Attribute names that turn an otherwise harmless dotted qualname into a gadget. */
const DANGEROUS_ATTRS = new Set([
  "eval", "exec", "system", "popen", "query", "tofile", "to_pickle", "to_csv", "dump", "dumps", "load",
  "loads", "read_pickle", "run", "call", "spawn", "open", "compile", "apply", "pipe", "map",
]);

const NUMPY_SCALARS = new Set([
  "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intc", "uintc",
  "intp", "uintp", "longlong", "ulonglong", "float16", "float32", "float64", "longdouble", "half", "single",
  "double", "complex64", "complex128", "clongdouble", "str_", "bytes_", "object_", "void", "datetime64",
  "timedelta64", "dtype", "ndarray", "matrix",
]);

const SAFE_NAMES = new Set([
  "numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar", "numpy.core.numeric._frombuffer",
  "numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar", "numpy._core.numeric._frombuffer",
  "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray", "numpy.matrixlib.defmatrix.matrix",
  "numpy.core.records.recarray", "numpy.random.__RandomState_ctor", "numpy.random.mtrand.RandomState",
  "numpy.dtypes.Float64DType", "numpy.dtypes.Float32DType", "numpy.dtypes.Int64DType",
  "collections.OrderedDict", "collections.defaultdict", "collections.deque", "collections.Counter",
  "builtins.set", "builtins.frozenset", "builtins.slice", "builtins.complex", "builtins.bytearray",
  "builtins.object", "builtins.dict", "builtins.list", "builtins.tuple", "builtins.int", "builtins.float",
  "builtins.str", "builtins.bytes", "builtins.bool", "builtins.range",
  "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__", "_codecs.encode", "codecs.encode",
  "types.SimpleNamespace", "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
  "datetime.timezone", "decimal.Decimal", "fractions.Fraction", "uuid.UUID", "pytz._p", "pytz._UTC",
  "pytz.utc", "dateutil.tz.tz.tzutc", "dateutil.tz.tz.tzoffset", "zoneinfo.ZoneInfo", "re._compile",
  "joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle_compat.NDArrayWrapper",
  "joblib.numpy_pickle_compat.ZNDArrayWrapper",
  "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
  "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
  "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_qtensor",
  "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
  "torch._utils._rebuild_nested_tensor", "torch._tensor._rebuild_from_type_v2", "torch._tensor.Tensor",
  "torch.Tensor", "torch.Size", "torch.device", "torch.dtype", "torch.storage.UntypedStorage",
  "torch.storage.TypedStorage", "torch.storage._TypedStorage", "torch.nn.parameter.Parameter",
  "torch.nn.parameter.Buffer", "torch.serialization._get_layout", "torch.strided", "torch.sparse_coo",
  "torch.per_tensor_affine", "torch.per_channel_affine",
]);

/** Library modules whose classes are allowlisted wholesale (deny rules above still win). */
const SAFE_MODULE_PREFIXES = [
  "sklearn.", "xgboost.", "lightgbm.", "statsmodels.", "scipy.sparse.", "pandas.core.", "pandas._libs.",
  "torch.nn.modules.", "torch.nn.functional", "numpy.random._pickle", "numpy.random._mt19937",
  "numpy.random._pcg64", "numpy.random._philox", "numpy.random._sfc64", "numpy.random.bit_generator",
  "numpy.random._generator", "prophet.", "catboost.",
];

const TORCH_STORAGE = /^torch\.(cuda\.)?[A-Za-z0-9]*Storage$/;
const TORCH_DTYPES = new Set([
  "float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool",
  "complex64", "complex128", "float", "double", "half", "long", "int", "short", "qint8", "quint8", "qint32",
]);

/** Normalises Python 2 module names the way Python 3's unpickler does before import. */
export function normalizeModule(module: string): string {
  const dot = module.indexOf(".");
  const head = dot < 0 ? module : module.slice(0, dot);
  const mapped = PY2_MODULES[head];
  return mapped === undefined ? module : mapped + (dot < 0 ? "" : module.slice(dot));
}

function inModule(module: string, set: Set<string>): boolean {
  if (set.has(module)) return true;
  for (let i = module.indexOf("."); i > 0; i = module.indexOf(".", i + 1)) {
    if (set.has(module.slice(0, i))) return true;
  }
  return false;
}

/** Verdict for one pickle global: allowlisted ML library names are safe, system access is dangerous, the rest suspicious. */
export function classifyGlobal(rawModule: string, name: string): GlobalVerdict {
  const mod = normalizeModule(rawModule);
  const full = `${mod}.${name}`;
  const firstAttr = name.split(".")[0] ?? name;
  if (inModule(mod, DANGEROUS_MODULES)) return "dangerous";
  if (IO_MODULES.has(mod)) return IO_HARMLESS.has(name) ? "suspicious" : "dangerous";
  if (DANGEROUS_NAMES.has(full) || DANGEROUS_NAMES.has(`${mod}.${firstAttr}`)) return "dangerous";
  if (mod === "builtins" && /^(eval|exec|compile|__import__|getattr|open)$/.test(firstAttr)) return "dangerous";
  if (name.includes(".")) {
    // IMPORTANT: protocol 4 resolves dotted qualnames attribute by attribute, so an allowlisted class
    // must not make `Class.method` safe (e.g. numpy.ndarray.tofile writes files).
    const parts = name.split(".");
    if (parts.some((p) => (p.startsWith("__") && p.endsWith("__")) || DANGEROUS_ATTRS.has(p))) return "dangerous";
    return "suspicious";
  }
  if (/^(system|popen|exec\w*|eval|spawn\w*|load_library)$/.test(name) && !SAFE_NAMES.has(full)) {
    return mod.startsWith("__main__") ? "suspicious" : "dangerous";
  }
  if (SAFE_NAMES.has(full)) return "safe";
  if (mod === "numpy" && NUMPY_SCALARS.has(name)) return "safe";
  if (mod === "torch" && (TORCH_STORAGE.test(full) || TORCH_DTYPES.has(name))) return "safe";
  if (mod === "torch.cuda" && TORCH_STORAGE.test(full)) return "safe";
  for (const prefix of SAFE_MODULE_PREFIXES) {
    if (mod.startsWith(prefix) || mod === prefix.replace(/\.$/, "")) {
      if (/(^|_)(load|loads|read_pickle|unpickle_file)$/.test(name)) return "suspicious";
      return "safe";
    }
  }
  return "suspicious";
}

/** The ML framework a global belongs to, if any (used to name the framework of a plain pickle). */
export function frameworkOfModule(module: string): "scikit-learn" | "xgboost" | "lightgbm" | "statsmodels" | "prophet" | "pytorch" | null {
  const m = normalizeModule(module);
  if (m === "sklearn" || m.startsWith("sklearn.")) return "scikit-learn";
  if (m === "xgboost" || m.startsWith("xgboost.")) return "xgboost";
  if (m === "lightgbm" || m.startsWith("lightgbm.")) return "lightgbm";
  if (m === "statsmodels" || m.startsWith("statsmodels.")) return "statsmodels";
  if (m === "prophet" || m.startsWith("prophet.") || m.startsWith("fbprophet")) return "prophet";
  if (m === "torch" || m.startsWith("torch.")) return "pytorch";
  return null;
}
