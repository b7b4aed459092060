"""nibble from Python through ctypes and the C API (include/nibble/nibble_c.h).

    python3 nibble_ctypes.py /path/to/libnibble.so MODEL.gguf [PROMPT]

Only the declarations used here are spelled out; the C header documents every function.
"""
import ctypes as C
import sys


class Status(C.Structure):
    _fields_ = [("code", C.c_int), ("message", C.c_char * 256)]


class SessionParams(C.Structure):  # field order and types as in nibble_session_params
    _fields_ = [("n_ctx", C.c_int32), ("n_threads", C.c_int32), ("n_batch", C.c_int32),
                ("kv_cache_q8_0", C.c_int32), ("context_shift", C.c_int32),
                ("n_keep", C.c_int32), ("temperature", C.c_float), ("top_k", C.c_int32),
                ("top_p", C.c_float), ("min_p", C.c_float), ("repeat_penalty", C.c_float),
                ("frequency_penalty", C.c_float), ("presence_penalty", C.c_float),
                ("penalty_last_n", C.c_int32), ("seed", C.c_uint64),
                ("draft_model", C.c_void_p), ("lookup_ngram", C.c_int32),
                ("n_draft", C.c_int32)]


TEXT_CALLBACK = C.CFUNCTYPE(C.c_int, C.POINTER(C.c_char), C.c_size_t, C.c_void_p)


def load(lib_path):
    lib = C.CDLL(lib_path)
    lib.nibble_version.restype = C.c_char_p
    lib.nibble_model_load.restype = C.c_void_p
    lib.nibble_model_load.argtypes = [C.c_char_p, C.c_void_p, C.POINTER(Status)]
    lib.nibble_model_free.argtypes = [C.c_void_p]
    lib.nibble_session_default_params.restype = SessionParams
    lib.nibble_session_create.restype = C.c_void_p
    lib.nibble_session_create.argtypes = [C.c_void_p, C.POINTER(SessionParams),
                                          C.POINTER(Status)]
    lib.nibble_session_free.argtypes = [C.c_void_p]
    lib.nibble_generate.restype = C.c_int
    lib.nibble_generate.argtypes = [C.c_void_p, C.c_char_p, C.c_int, TEXT_CALLBACK,
                                    C.c_void_p, C.POINTER(Status)]
    return lib


def generate(lib, model_path, prompt, max_tokens=40):
    st = Status()
    model = lib.nibble_model_load(model_path.encode(), None, C.byref(st))
    if not model:
        raise RuntimeError(st.message.decode())
    params = lib.nibble_session_default_params()
    params.temperature = 0.0  # greedy
    session = lib.nibble_session_create(model, C.byref(params), C.byref(st))
    if not session:
        lib.nibble_model_free(model)
        raise RuntimeError(st.message.decode())
    pieces = []

    @TEXT_CALLBACK
    def on_text(text, length, _user_data):
        pieces.append(C.string_at(text, length).decode("utf-8"))
        return 0  # non-zero stops

    n = lib.nibble_generate(session, prompt.encode(), max_tokens, on_text, None, C.byref(st))
    lib.nibble_session_free(session)
    lib.nibble_model_free(model)
    if n < 0:
        raise RuntimeError(st.message.decode())
    return "".join(pieces)


if __name__ == "__main__":
    lib = load(sys.argv[1])
    prompt = sys.argv[3] if len(sys.argv) > 3 else "Once upon a time"
    print("nibble", lib.nibble_version().decode())
    print(prompt + generate(lib, sys.argv[2], prompt))
    # Errors come back as exceptions with the library's message.
    try:
        generate(lib, "/nonexistent.gguf", prompt)
    except RuntimeError as e:
        print("error:", e)
