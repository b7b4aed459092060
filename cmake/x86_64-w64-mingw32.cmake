# Cross build for Windows x86-64 with Debian's g++-mingw-w64-x86-64-posix (POSIX threads
# variant: std::thread and std::atomic::wait over winpthreads); tests run under wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Self-contained executables and DLL: libstdc++, libgcc and winpthread linked in, so they run under
# wine (or on a Windows machine) without the MinGW DLLs on the PATH.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
# GCC cannot align the Win64 stack beyond 16 bytes (GCC bug 54412): 32/64-byte AVX spills
# with aligned moves would fault. The assembler turns aligned vector moves into unaligned
# ones (same speed on aligned data).
set(CMAKE_C_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")
set(CMAKE_CXX_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")
# Debian's wine64 package installs the 64-bit loader here (no /usr/bin/wine without wine32).
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/lib/wine/wine64)
