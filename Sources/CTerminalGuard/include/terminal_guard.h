#ifndef GLIMPSE_TERMINAL_GUARD_H
#define GLIMPSE_TERMINAL_GUARD_H

#include <stddef.h>

/// Restores the terminal whatever ends the process. Signal handlers may only make async-signal-safe calls
/// (termios, write, open), so everything they need is prepared here beforehand, outside them.

/// Remembers the terminal's settings (before curses changes them) and the bytes that undo what the app turned
/// on (mouse, bracketed paste, alternate screen, images). Installs the handlers: SIGTERM, SIGHUP and SIGINT ask
/// for a clean quit (`glimpse_guard_quit_signal`), with an alarm that restores the terminal and ends the process
/// if the quit does not finish in `grace_seconds`; SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and SIGTRAP restore
/// the terminal, write a crash note to `crash_note_path` (may be NULL) and then let the crash go on (to the
/// handler that was there before, else the default action). Returns 0, or -1 when stdin is not a terminal.
int glimpse_guard_install(const char *crash_note_path, const unsigned char *reset, size_t reset_length,
                          unsigned grace_seconds);

/// The signal that asked for a quit (SIGTERM, SIGHUP, SIGINT), or 0.
int glimpse_guard_quit_signal(void);

/// Restores the terminal's settings and writes the reset bytes now (what the handlers do).
void glimpse_guard_restore(void);

/// Cancels the handlers and the alarm (after a clean shutdown).
void glimpse_guard_remove(void);

/// 1 when the terminal is gone: stdin hung up or closed (its window closed, its ssh connection dropped).
int glimpse_guard_terminal_gone(void);

#endif
