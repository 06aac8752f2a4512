// Pickle opcodes (CPython's Lib/pickle.py) that torch.save emits, and the
// few more of protocols 2-5 that other pickles use.
#pragma once

namespace ckpt::torch_store::op {

// protocol 0/1
inline constexpr char MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', NONE = 'N', BININT = 'J',
                      BININT1 = 'K', BININT2 = 'M', BINFLOAT = 'G', BINUNICODE = 'X', BINSTRING = 'T',
                      SHORT_BINSTRING = 'U', EMPTY_DICT = '}', EMPTY_LIST = ']', EMPTY_TUPLE = ')', APPEND = 'a',
                      APPENDS = 'e', SETITEM = 's', SETITEMS = 'u', TUPLE = 't', DICT = 'd', LIST = 'l',
                      GLOBAL = 'c', REDUCE = 'R', BUILD = 'b', BINPUT = 'q', LONG_BINPUT = 'r', BINGET = 'h',
                      LONG_BINGET = 'j', BINPERSID = 'Q';
// protocol 2
inline constexpr char PROTO = '\x80', NEWOBJ = '\x81', TUPLE1 = '\x85', TUPLE2 = '\x86', TUPLE3 = '\x87',
                      NEWTRUE = '\x88', NEWFALSE = '\x89', LONG1 = '\x8a', LONG4 = '\x8b';
// protocol 3
inline constexpr char BINBYTES = 'B', SHORT_BINBYTES = 'C';
// protocol 4
inline constexpr char SHORT_BINUNICODE = '\x8c', BINUNICODE8 = '\x8d', BINBYTES8 = '\x8e', EMPTY_SET = '\x8f',
                      ADDITEMS = '\x90', FROZENSET = '\x91', NEWOBJ_EX = '\x92', STACK_GLOBAL = '\x93',
                      MEMOIZE = '\x94', FRAME = '\x95';
// protocol 5
inline constexpr char BYTEARRAY8 = '\x96', NEXT_BUFFER = '\x97', READONLY_BUFFER = '\x98';

}  // namespace ckpt::torch_store::op
