#include "console.h"

#include <csignal>
#include <cstdio>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <io.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace chat {
namespace {
void (*g_handler)() = nullptr;
void on_sigint(int) {
#if defined(_WIN32)
  std::signal(SIGINT, on_sigint);  // the CRT resets the handler before calling it
#endif
  if (g_handler) g_handler();
}
}  // namespace

#if defined(_WIN32)
bool stdin_is_terminal() { return _isatty(_fileno(stdin)) != 0; }
void use_utf8_console() {
  SetConsoleOutputCP(CP_UTF8);
  SetConsoleCP(CP_UTF8);
}
void quit_now() {
  (void)_write(1, "\n", 1);
  _exit(0);
}
#else
bool stdin_is_terminal() { return isatty(STDIN_FILENO) != 0; }
void use_utf8_console() {}
void quit_now() {
  (void)!write(STDOUT_FILENO, "\n", 1);
  _exit(0);
}
#endif

void on_interrupt(void (*handler)()) {
  g_handler = handler;
  std::signal(SIGINT, on_sigint);
}

}  // namespace chat
