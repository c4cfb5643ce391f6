#ifndef GLIMPSE_CNCURSESW_SHIM_H
#define GLIMPSE_CNCURSESW_SHIM_H
// Wide-character API: without this, cchar_t, wget_wch and setcchar are not declared.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/ncurses.h>
int wcwidth(wchar_t c);

// Swift cannot read ncurses' globals or expand its function-like macros: accessors.
static inline WINDOW *glimpse_stdscr(void) { return stdscr; }
static inline int glimpse_lines(void) { return LINES; }
static inline int glimpse_cols(void) { return COLS; }
static inline int glimpse_colors(void) { return COLORS; }
static inline attr_t glimpse_a_bold(void) { return A_BOLD; }
static inline attr_t glimpse_a_underline(void) { return A_UNDERLINE; }
static inline attr_t glimpse_a_reverse(void) { return A_REVERSE; }
static inline int glimpse_key_f(int n) { return KEY_F(n); }

// setcchar with an int colour pair (pairs above 32767 go through the opts pointer).
static inline int glimpse_setcchar(cchar_t *cc, const wchar_t *wch, attr_t attrs, int pair) {
    return setcchar(cc, wch, attrs, 0, &pair);
}

// Mouse: left presses and the wheel, reported as 1 (left), 4 (wheel up), 5 (wheel down); 0 for anything else.
static inline void glimpse_enable_mouse(void) {
    mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}
static inline int glimpse_key_mouse(void) { return KEY_MOUSE; }
static inline int glimpse_read_mouse(int *x, int *y) {
    MEVENT e;
    if (getmouse(&e) != OK) return 0;
    *x = e.x; *y = e.y;
    if (e.bstate & BUTTON1_PRESSED) return 1;
    if (e.bstate & BUTTON1_RELEASED) return 2;
    if (e.bstate & BUTTON4_PRESSED) return 4;
#ifdef BUTTON5_PRESSED
    if (e.bstate & BUTTON5_PRESSED) return 5;
#endif
    return 0;
}
#endif
