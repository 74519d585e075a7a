import type { GlobalRef } from "../types";
import { ALLOWLIST, JUDGED } from "./allowlist";

export type GlobalVerdict = GlobalRef["verdict"];

/**
 * How a pickle global is judged. Fail closed: only exact names on the allowlist are safe.
 * - `safe`: on the allowlist.
 * - `judged`: allowlisted only for some arguments (partial, _reconstructor, getattr …); each call decides.
 * - `dangerous`: stdlib or C-module name not on the allowlist, a denied library area, a dunder or dotted
 *   attribute path, a name that resolves through a module re-export, or a name that cannot be read.
 * - `unlisted`: code outside the standard library that we do not know (the training script's
 *   `__main__` classes, a library class missing from the list). Referencing or instantiating it
 *   without running its constructor is suspicious; calling it (REDUCE, OBJ, INST) or modifying it is dangerous.
 */
export type GlobalKind = "safe" | "judged" | "dangerous" | "unlisted";

export interface GlobalClass {
  kind: GlobalKind;
  /** "module.qualname" after Python 2 name mapping: what the unpickler imports. */
  resolved: string;
  reason: string;
}

// Lib/_compat_pickle.py IMPORT_MAPPING: protocol 0-2 pickles name Python 2 modules.
const PY2_MODULES: Record<string, string> = {
  __builtin__: "builtins",
  copy_reg: "copyreg",
  Queue: "queue",
  SocketServer: "socketserver",
  ConfigParser: "configparser",
  repr: "reprlib",
  tkFileDialog: "tkinter.filedialog",
  tkSimpleDialog: "tkinter.simpledialog",
  tkColorChooser: "tkinter.colorchooser",
  tkCommonDialog: "tkinter.commondialog",
  Dialog: "tkinter.dialog",
  Tkdnd: "tkinter.dnd",
  tkFont: "tkinter.font",
  tkMessageBox: "tkinter.messagebox",
  ScrolledText: "tkinter.scrolledtext",
  Tkconstants: "tkinter.constants",
  Tix: "tkinter.tix",
  ttk: "tkinter.ttk",
  Tkinter: "tkinter",
  markupbase: "_markupbase",
  _winreg: "winreg",
  thread: "_thread",
  dummy_thread: "_dummy_thread",
  dbhash: "dbm.bsd",
  dumbdbm: "dbm.dumb",
  dbm: "dbm.ndbm",
  gdbm: "dbm.gnu",
  xmlrpclib: "xmlrpc.client",
  SimpleXMLRPCServer: "xmlrpc.server",
  httplib: "http.client",
  htmlentitydefs: "html.entities",
  HTMLParser: "html.parser",
  Cookie: "http.cookies",
  cookielib: "http.cookiejar",
  BaseHTTPServer: "http.server",
  "test.test_support": "test.support",
  commands: "subprocess",
  urlparse: "urllib.parse",
  robotparser: "urllib.robotparser",
  urllib2: "urllib.request",
  anydbm: "dbm",
  _abcoll: "collections.abc",
  cPickle: "pickle",
  _elementtree: "xml.etree.ElementTree",
  FileDialog: "tkinter.filedialog",
  SimpleDialog: "tkinter.simpledialog",
  DocXMLRPCServer: "xmlrpc.server",
  SimpleHTTPServer: "http.server",
  CGIHTTPServer: "http.server",
  UserDict: "collections",
  UserList: "collections",
  UserString: "collections",
  whichdb: "dbm",
  StringIO: "io",
  cStringIO: "io",
};

// Lib/_compat_pickle.py NAME_MAPPING (exceptions.X maps to builtins.X and is handled below).
const PY2_NAMES: Record<string, string> = {
  "__builtin__.xrange": "builtins.range",
  "__builtin__.reduce": "functools.reduce",
  "__builtin__.intern": "sys.intern",
  "__builtin__.unichr": "builtins.chr",
  "__builtin__.unicode": "builtins.str",
  "__builtin__.long": "builtins.int",
  "__builtin__.basestring": "builtins.str",
  "itertools.izip": "builtins.zip",
  "itertools.imap": "builtins.map",
  "itertools.ifilter": "builtins.filter",
  "itertools.ifilterfalse": "itertools.filterfalse",
  "itertools.izip_longest": "itertools.zip_longest",
  "UserDict.IterableUserDict": "collections.UserDict",
  "UserList.UserList": "collections.UserList",
  "UserString.UserString": "collections.UserString",
  "UserDict.UserDict": "collections.UserDict",
  "whichdb.whichdb": "dbm.whichdb",
  "_socket.fromfd": "socket.fromfd",
  "_multiprocessing.Connection": "multiprocessing.connection.Connection",
  "multiprocessing.process.Process": "multiprocessing.context.Process",
  "multiprocessing.forking.Popen": "multiprocessing.popen_fork.Popen",
  "urllib.urlopen": "urllib.request.urlopen",
  "urllib.urlretrieve": "urllib.request.urlretrieve",
  "exceptions.StandardError": "builtins.Exception",
  "socket._socketobject": "socket.SocketType",
};

// sys.stdlib_module_names (3.11) plus names added or removed around it: every one of these is
// dangerous unless the exact name is allowlisted (C modules such as _operator, posix, nt, _io,
// _posixsubprocess included).
const STDLIB = new Set(
  (
    "__future__ _abc _aix_support _ast _asyncio _bisect _blake2 _bootsubprocess _bz2 _codecs _codecs_cn _codecs_hk _codecs_iso2022 " +
    "_codecs_jp _codecs_kr _codecs_tw _collections _collections_abc _compat_pickle _compression _contextvars _crypt _csv _ctypes " +
    "_curses _curses_panel _datetime _dbm _decimal _elementtree _frozen_importlib _frozen_importlib_external _functools _gdbm " +
    "_hashlib _heapq _imp _io _json _locale _lsprof _lzma _markupbase _md5 _msi _multibytecodec _multiprocessing _opcode _operator " +
    "_osx_support _overlapped _pickle _posixshmem _posixsubprocess _py_abc _pydecimal _pyio _queue _random _scproxy _sha1 _sha256 " +
    "_sha3 _sha512 _signal _sitebuiltins _socket _sqlite3 _sre _ssl _stat _statistics _string _strptime _struct _symtable _thread " +
    "_threading_local _tkinter _tokenize _tracemalloc _typing _uuid _warnings _weakref _weakrefset _winapi _zoneinfo abc aifc " +
    "antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb binascii bisect builtins bz2 cProfile " +
    "calendar cgi cgitb chunk cmath cmd code codecs codeop collections colorsys compileall concurrent configparser contextlib " +
    "contextvars copy copyreg crypt csv ctypes curses dataclasses datetime dbm decimal difflib dis distutils doctest email " +
    "encodings ensurepip enum errno faulthandler fcntl filecmp fileinput fnmatch fractions ftplib functools gc genericpath getopt " +
    "getpass gettext glob graphlib grp gzip hashlib heapq hmac html http idlelib imaplib imghdr imp importlib inspect io ipaddress " +
    "itertools json keyword lib2to3 linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap modulefinder msilib " +
    "msvcrt multiprocessing netrc nis nntplib nt ntpath nturl2path numbers opcode operator optparse os ossaudiodev pathlib pdb " +
    "pickle pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile pstats pty pwd py_compile pyclbr " +
    "pydoc pydoc_data pyexpat queue quopri random re readline reprlib resource rlcompleter runpy sched secrets select selectors " +
    "shelve shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd sqlite3 sre_compile sre_constants sre_parse ssl " +
    "stat statistics string stringprep struct subprocess sunau symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile " +
    "termios textwrap this threading time timeit tkinter token tokenize tomllib trace traceback tracemalloc tty turtle turtledemo " +
    "types typing unicodedata unittest urllib uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml " +
    "xmlrpc zipapp zipfile zipimport zlib zoneinfo " +
    "test exceptions _dummy_thread dummy_threading _pyrepl _interpreters _interpqueues _interpchannels _xxsubinterpreters " +
    "annotationlib compression _colorize _opcode_metadata _pylong _sysconfig _suggestions _ios_support _android_support " +
    "_apple_support __hello__ __phello__ _testcapi _testinternalcapi _testbuffer _testimportmultiple _testmultiphase xxsubtype " +
    "_wmi _bootlocale _sre _tkinter _lsprof _peg_parser parser symbol formatter binhex _tokenize"
  ).split(" "),
);

// Third-party areas that run code, reach the network or read files, or evaluate strings (formula and
// expression evaluators): dangerous in any use, not merely when called.
const DENIED_PREFIXES = [
  "dill",
  "cloudpickle",
  "joblib.parallel",
  "joblib.externals",
  "requests",
  "urllib3",
  "httpx",
  "aiohttp",
  "paramiko",
  "pexpect",
  "sh",
  "plumbum",
  "fabric",
  "invoke",
  "psutil",
  "docker",
  "kubernetes",
  "boto3",
  "botocore",
  "s3fs",
  "fsspec",
  "google.cloud",
  "azure",
  "IPython",
  "ipykernel",
  "jupyter_client",
  "jupyter_core",
  "nbconvert",
  "nbformat",
  "notebook",
  "pip",
  "setuptools",
  "pkg_resources",
  "_distutils_hack",
  "wheel",
  "virtualenv",
  "_pytest",
  "pytest",
  "nose",
  "six.moves",
  "future",
  "past",
  "yaml",
  "ruamel",
  "jsonpickle",
  "jinja2",
  "mako",
  "numexpr",
  "sympy",
  "patsy",
  "asteval",
  "simpleeval",
  "torch.hub",
  "torch.jit",
  "torch.fx",
  "torch.package",
  "torch._dynamo",
  "torch._inductor",
  "torch._export",
  "torch.export",
  "torch.utils.cpp_extension",
  "torch.utils.data",
  "torch.utils.bottleneck",
  "torch.utils.benchmark",
  "torch.ops",
  "torch._ops",
  "torch._C",
  "torch.distributed",
  "torch.multiprocessing",
  "torch.cuda.nvtx",
  "torch.backends",
  "torch.testing",
  "torch.compiler",
  "torch.onnx",
  "torch.library",
  "torch.serialization.load",
  "torch.load",
  "numpy.f2py",
  "numpy.distutils",
  "numpy.ctypeslib",
  "numpy.testing",
  "numpy.lib.npyio",
  "numpy.lib.format",
  "numpy.lib.utils",
  "numpy.load",
  "numpy.loadtxt",
  "numpy.genfromtxt",
  "numpy.fromfile",
  "numpy.fromregex",
  "numpy.save",
  "numpy.savez",
  "numpy.savetxt",
  "numpy.memmap",
  "numpy.core.memmap",
  "numpy._core.memmap",
  "numpy.DataSource",
  "numpy.lib._datasource",
  "numpy.vectorize",
  "numpy.frompyfunc",
  "numpy.fromfunction",
  "numpy.apply_along_axis",
  "numpy.apply_over_axes",
  "numpy.piecewise",
  "numpy.lib.function_base",
  "numpy.lib.shape_base",
  "pandas.io",
  "pandas.core.computation",
  "pandas.eval",
  "pandas.read_",
  "pandas.util",
  "pandas._testing",
  "pandas.testing",
  "pandas.core.frame.DataFrame.",
  "pandas.core.series.Series.",
  "pandas.core.generic.NDFrame.",
  "sklearn.utils._testing",
  "sklearn.utils.estimator_checks",
  "sklearn.externals",
  "sklearn.datasets",
  "sklearn.utils.fixes",
  "sklearn.utils._joblib",
  "sklearn.utils.parallel",
  "statsmodels.formula",
  "statsmodels.iolib",
  "statsmodels.datasets",
  "statsmodels.tools.web",
  "statsmodels.sandbox",
  "scipy.io",
  "scipy.weave",
  "scipy._lib",
  "keras.utils",
  "keras.src.utils",
  "keras.saving",
  "keras.src.saving",
  "tf_keras.utils",
  "tensorflow.io",
  "tensorflow.python.ops.script_ops",
  "tensorflow.python.platform",
  "transformers.dynamic_module_utils",
  "transformers.models.auto.auto_factory",
  "huggingface_hub",
  "mlflow",
  "wandb",
  "comet_ml",
  "neptune",
  "ray",
  "dask",
  "distributed",
  "celery",
  "redis",
  "sqlalchemy",
  "xgboost.tracker",
  "xgboost.dask",
  "xgboost.spark",
  "xgboost.collective",
  "xgboost.rabit",
  "lightgbm.dask",
  "catboost.utils",
  "pyximport",
  "Cython",
  "cython",
  "numba",
  "llvmlite",
  "cffi",
  "pycparser",
  "win32api",
  "win32com",
  "pywintypes",
  "pythoncom",
  "pyautogui",
  "pynput",
  "webview",
  "selenium",
  "playwright",
  "gradio",
  "streamlit",
  "fastapi",
  "flask",
  "django",
];

/** Module names that re-export the interpreter: a global that passes through one resolves to it. */
const REEXPORTED = new Set([
  "os",
  "sys",
  "subprocess",
  "builtins",
  "__builtins__",
  "__builtin__",
  "importlib",
  "posix",
  "nt",
  "shutil",
  "socket",
  "pickle",
  "marshal",
  "ctypes",
  "runpy",
  "code",
  "pty",
  "codecs",
  "operator",
  "functools",
  "inspect",
  "platform",
  "signal",
  "tempfile",
  "webbrowser",
  "multiprocessing",
  "threading",
  "asyncio",
  "_io",
  "_operator",
  "_posixsubprocess",
  "_pickle",
  "_ctypes",
  "_socket",
  "_thread",
  "pdb",
  "bdb",
  "timeit",
  "pydoc",
]);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function dangerous(resolved: string, reason: string): GlobalClass {
  return { kind: "dangerous", resolved, reason };
}

/** The module and name Python 3's unpickler actually imports (fix_imports, on by default). */
export function resolveGlobal(rawModule: string, name: string): { module: string; name: string } {
  const mapped = PY2_NAMES[`${rawModule}.${name}`];
  if (mapped) {
    const dot = mapped.lastIndexOf(".");
    return { module: mapped.slice(0, dot), name: mapped.slice(dot + 1) };
  }
  if (rawModule === "exceptions") return { module: "builtins", name };
  return { module: PY2_MODULES[rawModule] ?? rawModule, name };
}

function inPrefixes(full: string, prefixes: readonly string[]): string | null {
  for (const p of prefixes) {
    if (p.endsWith("_") || p.endsWith(".")) {
      if (full.startsWith(p)) return p;
    } else if (full === p || full.startsWith(`${p}.`)) {
      return p;
    }
  }
  return null;
}

/** Judges one global by its name alone (the walker then refines `judged` and `unlisted` by how it is used). */
export function describeGlobal(rawModule: string, rawName: string): GlobalClass {
  const { module, name } = resolveGlobal(rawModule, rawName);
  const full = `${module}.${name}`;
  const modParts = module.split(".");
  const nameParts = name.split(".");
  if (!modParts.every((p) => IDENT.test(p)) || !nameParts.every((p) => IDENT.test(p))) {
    return dangerous(full, "the name is not a plain Python identifier path (it cannot be judged)");
  }
  if (JUDGED.has(full)) return { kind: "judged", resolved: full, reason: "safe only for the arguments it is called with" };
  if (ALLOWLIST.has(full)) return { kind: "safe", resolved: full, reason: "on the allowlist" };
  const dunder = nameParts.find((p) => p.startsWith("__") && p.endsWith("__"));
  if (dunder) return dangerous(full, `reaches the Python internals through ${dunder}`);
  const top = modParts[0]!;
  if (STDLIB.has(top)) return dangerous(full, `standard-library name ${top === module ? module : top + "…"} is not on the allowlist`);
  const denied = inPrefixes(full, DENIED_PREFIXES);
  if (denied) return dangerous(full, `${denied} can run code, read files or reach the network`);
  const via = [...modParts.slice(1), ...nameParts].find((p) => REEXPORTED.has(p));
  if (via) return dangerous(full, `resolves through a re-export of the standard-library module ${via}`);
  if (nameParts.length > 1) return dangerous(full, "a dotted attribute path (Class.method) is only allowed when listed exactly");
  if (/^(system|popen|exec\w*|eval|spawn\w*|run|call|check_output|load|loads|load_library|compile|open)$/.test(name)) {
    return dangerous(full, `a function named ${name} runs code or reads files`);
  }
  return { kind: "unlisted", resolved: full, reason: "not on the allowlist (code the loader must already have)" };
}

/** Judged globals that are dangerous unless a call proves otherwise (getattr and friends reach any name). */
export const DANGEROUS_AS_VALUE = new Set([
  "builtins.getattr",
  "numpy.core._ufunc_reconstruct",
  "numpy._core._ufunc_reconstruct",
  "torch.storage._load_from_bytes",
]);

/** The verdict a global gets from its name alone: what `describeGlobal` says before any use is seen. */
export function classifyGlobal(rawModule: string, name: string): GlobalVerdict {
  const c = describeGlobal(rawModule, name);
  if (c.kind === "judged") return DANGEROUS_AS_VALUE.has(c.resolved) ? "dangerous" : "safe";
  return c.kind === "safe" ? "safe" : c.kind === "dangerous" ? "dangerous" : "suspicious";
}

/** The ML framework a global belongs to, if any (used to name the framework of a plain pickle). */
export function frameworkOfModule(module: string): "scikit-learn" | "xgboost" | "lightgbm" | "statsmodels" | "prophet" | "pytorch" | null {
  const m = resolveGlobal(module, "").module;
  if (m === "sklearn" || m.startsWith("sklearn.")) return "scikit-learn";
  if (m === "xgboost" || m.startsWith("xgboost.")) return "xgboost";
  if (m === "lightgbm" || m.startsWith("lightgbm.")) return "lightgbm";
  if (m === "statsmodels" || m.startsWith("statsmodels.")) return "statsmodels";
  if (m === "prophet" || m.startsWith("prophet.") || m.startsWith("fbprophet")) return "prophet";
  if (m === "torch" || m.startsWith("torch.")) return "pytorch";
  return null;
}
