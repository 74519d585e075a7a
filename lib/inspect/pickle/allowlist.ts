import { GENERATED_ALLOWLIST } from "./allowlist-generated";

/**
 * The exact globals a benign pickle may name, written as module -> space-separated names. Besides
 * the generated list of ML-library classes (allowlist-generated.ts), these are the reconstructors,
 * builtin types and pure functions that the standard library, numpy, torch and friends emit.
 * Anything not listed here (or in JUDGED) is never safe.
 */

const NUMPY_UFUNCS =
  "abs absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh bitwise_and bitwise_not bitwise_or bitwise_xor cbrt ceil conj conjugate copysign cos cosh deg2rad degrees divide divmod equal exp exp2 expm1 fabs float_power floor floor_divide fmax fmin fmod frexp gcd greater greater_equal heaviside hypot invert isfinite isinf isnan isnat lcm ldexp left_shift less less_equal log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or logical_xor matmul maximum minimum mod modf multiply negative nextafter not_equal positive power rad2deg radians reciprocal remainder right_shift rint sign signbit sin sinh spacing sqrt square subtract tan tanh true_divide trunc";

// Array functions estimators keep as parameters (pooling, aggregation): pure math, none takes a callable.
const NUMPY_FUNCTIONS =
  "mean median sum prod std var min max amin amax nanmean nanmedian nansum nanprod nanstd nanvar nanmin nanmax average percentile quantile nanpercentile nanquantile argmax argmin cumsum cumprod clip round around ptp all any dot sort unique array asarray zeros ones empty full arange linspace identity eye concatenate stack vstack hstack reshape transpose ravel where diff";

const NUMPY_TYPES =
  "ndarray dtype matrix recarray record bool_ bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 intc uintc intp uintp longlong ulonglong float16 float32 float64 longdouble half single double complex64 complex128 clongdouble str_ bytes_ object_ void datetime64 timedelta64 generic number integer floating complexfloating";

const TORCH_DTYPES =
  "float32 float64 float16 bfloat16 int8 int16 int32 int64 uint8 bool complex32 complex64 complex128 float double half long int short cfloat cdouble qint8 quint8 qint32 quint4x2 quint2x4 float8_e4m3fn float8_e5m2 uint16 uint32 uint64";

const TORCH_STORAGES =
  "FloatStorage DoubleStorage HalfStorage BFloat16Storage LongStorage IntStorage ShortStorage CharStorage ByteStorage BoolStorage ComplexFloatStorage ComplexDoubleStorage QInt8Storage QUInt8Storage QInt32Storage QUInt4x2Storage QUInt2x4Storage UntypedStorage TypedStorage";

// legacy tensor types (torch.FloatTensor …), named by old checkpoints
const TORCH_TENSOR_TYPES =
  "FloatTensor DoubleTensor HalfTensor BFloat16Tensor LongTensor IntTensor ShortTensor CharTensor ByteTensor BoolTensor";

const EXCEPTIONS =
  "BaseException Exception ArithmeticError AssertionError AttributeError BufferError EOFError FloatingPointError ImportError IndexError KeyError LookupError MemoryError NameError NotImplementedError OSError OverflowError RuntimeError StopIteration SyntaxError TypeError ValueError ZeroDivisionError UnicodeError UnicodeDecodeError UnicodeEncodeError Warning UserWarning DeprecationWarning FutureWarning RuntimeWarning ConvergenceWarning";

const HAND_ALLOWLIST: Record<string, string> = {
  // Python: builtin types and constants (constructing one runs no user code)
  builtins: `set frozenset slice complex bytearray bytes object dict list tuple int float str bool range Ellipsis NotImplemented ${EXCEPTIONS}`,
  collections: "OrderedDict defaultdict deque Counter UserDict UserList UserString",
  copyreg: "_reconstructor __newobj__ __newobj_ex__",
  datetime: "datetime date time timedelta timezone tzinfo",
  decimal: "Decimal",
  fractions: "Fraction",
  uuid: "UUID SafeUUID",
  re: "_compile",
  types: "SimpleNamespace",
  array: "array _array_reconstructor",
  ipaddress: "IPv4Address IPv6Address IPv4Network IPv6Network IPv4Interface IPv6Interface",
  // path objects are inert values: constructing one performs no I/O
  pathlib: "Path PurePath PosixPath WindowsPath PurePosixPath PureWindowsPath",
  zoneinfo: "ZoneInfo ZoneInfo._unpickle",
  pytz: "_p _UTC utc",
  "dateutil.tz.tz": "tzutc tzoffset tzlocal",
  // numpy (1.x and 2.x module paths)
  numpy: `${NUMPY_TYPES} ${NUMPY_UFUNCS} ${NUMPY_FUNCTIONS}`,
  "numpy.core.multiarray": "scalar",
  "numpy._core.multiarray": "scalar",
  "numpy.core.numeric": "_frombuffer",
  "numpy._core.numeric": "_frombuffer",
  "numpy.core._multiarray_umath": NUMPY_UFUNCS,
  "numpy._core._multiarray_umath": NUMPY_UFUNCS,
  "numpy.core.umath": NUMPY_UFUNCS,
  "numpy._core.umath": NUMPY_UFUNCS,
  "numpy.ma.core": "MaskedArray MaskedConstant mvoid",
  "numpy.matrixlib.defmatrix": "matrix",
  "numpy.core.records": "recarray record",
  "numpy._core.records": "recarray record",
  "numpy.random": "RandomState Generator MT19937 PCG64 PCG64DXSM Philox SFC64 SeedSequence",
  "numpy.random.mtrand": "RandomState",
  "numpy.random._pickle": "__bit_generator_ctor",
  "numpy.random._generator": "Generator",
  "numpy.random._mt19937": "MT19937",
  "numpy.random._pcg64": "PCG64 PCG64DXSM",
  "numpy.random._philox": "Philox",
  "numpy.random._sfc64": "SFC64",
  "numpy.random.bit_generator": "SeedSequence BitGenerator",
  "numpy.dtypes":
    "BoolDType Int8DType Int16DType Int32DType Int64DType UInt8DType UInt16DType UInt32DType UInt64DType Float16DType Float32DType Float64DType LongDoubleDType Complex64DType Complex128DType ObjectDType BytesDType StrDType VoidDType DateTime64DType TimeDelta64DType StringDType ByteDType UByteDType ShortDType UShortDType IntDType UIntDType LongDType ULongDType LongLongDType ULongLongDType",
  // torch: tensors, parameters, storages, dtypes, devices
  torch: `Tensor Size device dtype layout memory_format strided sparse_coo sparse_csr _mkldnn contiguous_format channels_last preserve_format per_tensor_affine per_channel_affine ${TORCH_DTYPES} ${TORCH_STORAGES} ${TORCH_TENSOR_TYPES}`,
  "torch.cuda": `${TORCH_STORAGES} ${TORCH_TENSOR_TYPES}`,
  "torch._utils":
    "_rebuild_tensor _rebuild_tensor_v2 _rebuild_tensor_v3 _rebuild_parameter _rebuild_parameter_with_state _rebuild_sparse_tensor _rebuild_qtensor _rebuild_device_tensor_from_numpy _rebuild_meta_tensor_no_storage _rebuild_nested_tensor _rebuild_wrapper_subclass _rebuild_sparse_csr_tensor",
  "torch._tensor": "Tensor",
  "torch.storage": "UntypedStorage TypedStorage _TypedStorage",
  "torch.nn.parameter": "Parameter Buffer UninitializedParameter UninitializedBuffer",
  "torch.serialization": "_get_layout",
  "torch.nn.functional":
    "relu gelu silu tanh sigmoid softmax log_softmax leaky_relu elu selu celu glu hardtanh relu6 mish softplus softsign hardswish hardsigmoid",
  // joblib's array wrappers (the array bytes follow the wrapper in the stream)
  "joblib.numpy_pickle": "NumpyArrayWrapper",
  "joblib.numpy_pickle_compat": "NDArrayWrapper ZNDArrayWrapper",
  // libraries not installed where the generator runs: their model classes only
  "lightgbm.sklearn": "LGBMModel LGBMClassifier LGBMRegressor LGBMRanker",
  "lightgbm.basic": "Booster",
  "catboost.core": "CatBoost CatBoostClassifier CatBoostRegressor CatBoostRanker",
  "prophet.forecaster": "Prophet",
  // names seen in real benign pickles that the generator does not list (private functions, methods, singletons)
  "sklearn.cluster._kmeans": "_kmeans_single_lloyd _kmeans_single_elkan",
  "pandas._libs.missing": "NA",
  "scipy.optimize._optimize": "OptimizeResult",
  "scipy.interpolate._interpolate":
    "interp1d._call_linear_np interp1d._call_linear interp1d._call_nearest interp1d._call_previousnext interp1d._call_spline",
};

/**
 * Globals that are safe only for some arguments; the walker judges each call (see judge.ts). They
 * show as safe until a call (or a missing call) decides otherwise.
 */
export const JUDGED = new Set([
  "copyreg._reconstructor",
  "copyreg.__newobj__",
  "copyreg.__newobj_ex__",
  "functools.partial",
  "_codecs.encode",
  "codecs.encode",
  "builtins.getattr",
  "numpy.core._ufunc_reconstruct",
  "numpy._core._ufunc_reconstruct",
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray._reconstruct",
  "numpy.ma.core._mareconstruct",
  "numpy.random._pickle.__randomstate_ctor",
  "numpy.random._pickle.__generator_ctor",
  "torch._tensor._rebuild_from_type",
  "torch._tensor._rebuild_from_type_v2",
  "torch.storage._load_from_bytes",
]);

function build(): Set<string> {
  const out = new Set<string>();
  for (const table of [GENERATED_ALLOWLIST, HAND_ALLOWLIST]) {
    for (const [module, names] of Object.entries(table)) {
      for (const name of names.split(" ")) if (name) out.add(`${module}.${name}`);
    }
  }
  return out;
}

/** "module.qualname" strings (after Python 2 name mapping) that are safe wherever they appear. */
export const ALLOWLIST: ReadonlySet<string> = build();
