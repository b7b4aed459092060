// nibble — NIBBLE_API marks what the shared library exports. Everything else in nibble is
// compiled with hidden visibility, so internals never become part of the ABI.
#ifndef NIBBLE_EXPORT_H
#define NIBBLE_EXPORT_H

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(NIBBLE_BUILDING_SHARED)
#define NIBBLE_API __declspec(dllexport)
#elif defined(NIBBLE_USING_SHARED)
#define NIBBLE_API __declspec(dllimport)
#else
#define NIBBLE_API
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define NIBBLE_API __attribute__((visibility("default")))
#else
#define NIBBLE_API
#endif

#endif  // NIBBLE_EXPORT_H
