/*
 * report_page.h - the inline style sheet and script of "runbundle report"
 * (report_page.c). Both are constant, NUL-terminated, and contain no
 * "</" sequence, so they can be placed inside <style> and <script>.
 */
#ifndef INSPECT_REPORT_PAGE_H
#define INSPECT_REPORT_PAGE_H

extern const char report_css[];
extern const char report_js[];

#endif
