#ifndef GLIMPSE_CNCURSESW_SHIM_H
#define GLIMPSE_CNCURSESW_SHIM_H
// Wide-character API: without this, cchar_t, wget_wch and setcchar are not declared.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <wchar.h>
#include <ncursesw/ncurses.h>
int wcwidth(wchar_t c);
#endif
