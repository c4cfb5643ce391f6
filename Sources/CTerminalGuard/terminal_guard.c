#define _GNU_SOURCE
#include "terminal_guard.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static struct termios saved_termios;
static int have_termios = 0;
static unsigned char reset_bytes[512];
static size_t reset_count = 0;
static char note_path[4096];
static volatile sig_atomic_t quit_signal = 0;
static volatile sig_atomic_t restoring = 0;
static unsigned grace = 3;

static const int quit_signals[] = {SIGTERM, SIGHUP, SIGINT};
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
static struct sigaction previous_crash[COUNT(crash_signals)];
static struct sigaction previous_quit[COUNT(quit_signals)];
static struct sigaction previous_alarm;
static int installed = 0;

static void write_all(int fd, const void *bytes, size_t count) {
    const char *p = bytes;
    while (count > 0) {
        ssize_t n = write(fd, p, count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        p += n;
        count -= (size_t)n;
    }
}

static void write_text(int fd, const char *text) { write_all(fd, text, strlen(text)); }

/// A number in decimal without stdio (not async-signal-safe).
static void write_number(int fd, long long value) {
    char digits[24];
    int i = sizeof(digits);
    int negative = value < 0;
    unsigned long long v = negative ? (unsigned long long)(-value) : (unsigned long long)value;
    do { digits[--i] = (char)('0' + v % 10); v /= 10; } while (v > 0 && i > 1);
    if (negative) digits[--i] = '-';
    write_all(fd, digits + i, sizeof(digits) - (size_t)i);
}

void glimpse_guard_restore(void) {
    int saved_errno = errno;
    if (reset_count > 0) write_all(STDOUT_FILENO, reset_bytes, reset_count);
    if (have_termios) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    errno = saved_errno;
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGILL: return "SIGILL (illegal instruction: a Swift runtime check failed, or a kernel this CPU lacks)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGABRT: return "SIGABRT (aborted)";
    case SIGTRAP: return "SIGTRAP (a Swift runtime check failed)";
    default: return "a fatal signal";
    }
}

static void write_crash_note(int sig) {
    if (note_path[0] == 0) return;
    int fd = open(note_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    write_text(fd, "Glimpse crashed: signal ");
    write_number(fd, sig);
    write_text(fd, ", ");
    write_text(fd, signal_name(sig));
    write_text(fd, "\ntime: ");
    write_number(fd, (long long)time(NULL));
    write_text(fd, " (seconds since 1970)\npid: ");
    write_number(fd, (long long)getpid());
    write_text(fd, "\nbacktrace:\n");
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, fd);
    close(fd);
}

static int index_of(const int *list, size_t count, int sig) {
    for (size_t i = 0; i < count; i++) if (list[i] == sig) return (int)i;
    return -1;
}

static void on_crash(int sig, siginfo_t *info, void *context) {
    if (!restoring) {
        restoring = 1;
        glimpse_guard_restore();
        write_crash_note(sig);
        write_text(STDERR_FILENO, "\r\nGlimpse crashed (");
        write_text(STDERR_FILENO, signal_name(sig));
        if (note_path[0]) {
            write_text(STDERR_FILENO, "); a note is in ");
            write_text(STDERR_FILENO, note_path);
        } else {
            write_text(STDERR_FILENO, ")");
        }
        write_text(STDERR_FILENO, ".\r\nThe conversation was saved as it went: glimpse --resume takes it up again.\r\n");
    }
    // On to what was there before (Swift's backtracer, say), else the default action, which ends the process.
    // Swift's backtracer waits 30 s for a key when stdin is a terminal; the backtrace is wanted, the wait not.
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) { dup2(null, STDIN_FILENO); close(null); }
    int i = index_of(crash_signals, COUNT(crash_signals), sig);
    struct sigaction before = previous_crash[i];
    sigaction(sig, &before, NULL);
    if ((before.sa_flags & SA_SIGINFO) && before.sa_sigaction) {
        before.sa_sigaction(sig, info, context);
    } else if (before.sa_handler != SIG_DFL && before.sa_handler != SIG_IGN && before.sa_handler) {
        before.sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);
    }
    // A fault re-runs the instruction and meets the restored handler; a raised signal is raised again.
    if (info == NULL || info->si_code <= 0) raise(sig);
}

/// The clean quit did not finish in time: the terminal is restored here and the process ends.
static void on_alarm(int sig) {
    (void)sig;
    glimpse_guard_restore();
    _exit(128 + (quit_signal ? quit_signal : SIGALRM));
}

static void on_quit(int sig) {
    if (quit_signal) {
        // A second one: the user means it.
        glimpse_guard_restore();
        _exit(128 + sig);
    }
    quit_signal = sig;
    alarm(grace);
}

int glimpse_guard_install(const char *crash_note_path, const unsigned char *reset, size_t reset_length,
                          unsigned grace_seconds) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) have_termios = 1;
    reset_count = reset_length < sizeof(reset_bytes) ? reset_length : sizeof(reset_bytes);
    memcpy(reset_bytes, reset, reset_count);
    note_path[0] = 0;
    if (crash_note_path) {
        strncpy(note_path, crash_note_path, sizeof(note_path) - 1);
        note_path[sizeof(note_path) - 1] = 0;
    }
    grace = grace_seconds > 0 ? grace_seconds : 3;
    // backtrace() loads libgcc on its first call, which allocates: done here, not in a handler.
    void *frames[4];
    backtrace(frames, 4);

    struct sigaction action;
    memset(&action, 0, sizeof(action));
    sigemptyset(&action.sa_mask);
    action.sa_sigaction = on_crash;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    for (size_t i = 0; i < COUNT(crash_signals); i++) sigaction(crash_signals[i], &action, &previous_crash[i]);

    struct sigaction quit;
    memset(&quit, 0, sizeof(quit));
    sigemptyset(&quit.sa_mask);
    quit.sa_handler = on_quit;
    for (size_t i = 0; i < COUNT(quit_signals); i++) sigaction(quit_signals[i], &quit, &previous_quit[i]);

    struct sigaction alarm_action;
    memset(&alarm_action, 0, sizeof(alarm_action));
    sigemptyset(&alarm_action.sa_mask);
    alarm_action.sa_handler = on_alarm;
    sigaction(SIGALRM, &alarm_action, &previous_alarm);
    installed = 1;
    return have_termios ? 0 : -1;
}

int glimpse_guard_quit_signal(void) { return quit_signal; }

void glimpse_guard_remove(void) {
    if (!installed) return;
    installed = 0;
    alarm(0);
    for (size_t i = 0; i < COUNT(crash_signals); i++) sigaction(crash_signals[i], &previous_crash[i], NULL);
    for (size_t i = 0; i < COUNT(quit_signals); i++) sigaction(quit_signals[i], &previous_quit[i], NULL);
    sigaction(SIGALRM, &previous_alarm, NULL);
}

int glimpse_guard_terminal_gone(void) {
    struct pollfd fd = {.fd = STDIN_FILENO, .events = 0, .revents = 0};
    if (poll(&fd, 1, 0) < 0) return 0;
    return (fd.revents & (POLLHUP | POLLERR | POLLNVAL)) ? 1 : 0;
}
