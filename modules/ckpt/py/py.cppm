// ckpt.py — Python semantics the reference hooks rely on: the dynamic
// `Value`, operators with Python's exceptions, `str.format`, `os.path`.
// Pure: no I/O, no clocks, no globals.
export module ckpt.py;
export import :value;
export import :ops;
export import :format;
export import :path;
