// nibble-chat's few OS calls in one place (POSIX and Windows): whether stdin is a terminal,
// a UTF-8 console, Ctrl-C.
#pragma once

namespace chat {

bool stdin_is_terminal();
// Windows: console input and output code pages set to UTF-8. Elsewhere nothing to do.
void use_utf8_console();
// Ctrl-C calls handler (in a signal context on POSIX, on a separate thread on Windows: it may
// only touch atomics and call quit_now()).
void on_interrupt(void (*handler)());
// A newline on stdout, then the process ends at once (async-signal-safe).
[[noreturn]] void quit_now();

}  // namespace chat
