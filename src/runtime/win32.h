// <windows.h> for the runtime's Windows implementations, without min/max macros and the
// rarely used parts. Include only from the OS-specific branches of runtime/*.cpp.
#pragma once

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif
